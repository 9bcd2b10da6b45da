import { UNVERIFIED_FLOOR } from '../../../../shared/discovery';
import { RISK_RULES, VERDICT_RULES } from '../../../../shared/discovery-risk';

// Heaviest first: what matters most is read first.
const rules = Object.entries(RISK_RULES).sort(
  ([, a], [, b]) => b.points - a.points || Number(b.neverSafe) - Number(a.neverSafe),
);

/** "How the risk score works", written from the rules the server scores with. */
export function RiskHelp() {
  return (
    <details className="risk-help" data-testid="risk-help">
      <summary>How the risk score works</summary>
      <p>
        Each token gets a score from 0 (nothing found) to 100 (avoid), from its GoPlus security report and DexScreener
        market data. Each finding adds its points (at most 100 in all); a “never safe” finding makes the token risky
        whatever its score. Press a token's badge to see its findings.
      </p>
      <ul>
        <li>
          <span className="badge good">Safe</span> {VERDICT_RULES.safe}
        </li>
        <li>
          <span className="badge bad">Risky</span> {VERDICT_RULES.risky}
        </li>
        <li>
          <span className="badge warn">Unverified</span> {VERDICT_RULES.unverified}
        </li>
      </ul>
      <table className="risk-rules" data-testid="risk-rules">
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Points</th>
            <th scope="col">Never safe</th>
          </tr>
        </thead>
        <tbody>
          {rules.map(([name, r]) => (
            <tr key={name} data-rule={name}>
              <td>{r.help}</td>
              <td>{r.points}</td>
              <td>{r.neverSafe ? 'yes' : ''}</td>
            </tr>
          ))}
          <tr>
            <td>Security check unavailable, or a core fact not reported</td>
            <td>at least {UNVERIFIED_FLOOR}</td>
            <td>yes</td>
          </tr>
        </tbody>
      </table>
    </details>
  );
}

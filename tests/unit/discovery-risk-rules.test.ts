import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MarketFacts } from '../../server/modules/discovery/dexscreener';
import type { SecurityResult } from '../../server/modules/discovery/goplus';
import { assessRisk } from '../../server/modules/discovery/risk';
import { SAFE_BELOW } from '../../shared/discovery';
import { RISK_LIMITS, RISK_RULES } from '../../shared/discovery-risk';

/** A recorded GoPlus answer (tests/fixtures/goplus), with `change` applied to its data. */
function report(name: 'evm-clean' | 'solana-clean', change: Record<string, unknown> = {}): SecurityResult {
  const body = JSON.parse(readFileSync(new URL(`../fixtures/goplus/${name}.json`, import.meta.url), 'utf8'));
  const data = { ...(Object.values(body.result)[0] as Record<string, unknown>), ...change };
  return { ok: true, report: { kind: name.startsWith('solana') ? 'solana' : 'evm', data } };
}

const liquid: MarketFacts = {
  name: 'X',
  symbol: 'X',
  priceUsd: 1,
  liquidityUsd: 250_000,
  volume24hUsd: 90_000,
  fdvUsd: 1e7,
  pairCreatedAt: new Date(),
  url: null,
  iconUrl: null,
};
const fee = (rate: string) => report('solana-clean', { transfer_fee: { fee_rate: rate, maximum_fee: '1000000' } });

describe('risk rules', () => {
  it('a token with no trading pair is never safe, however clean its contract', () => {
    const v = assessRisk(report('evm-clean'), null);
    expect(v).toEqual({ riskScore: SAFE_BELOW, isSafe: false, verified: true, risks: ['No trading pair found yet'] });
  });

  it('no liquidity, or liquidity not reported, is never safe; thin liquidity only adds points', () => {
    expect(assessRisk(report('evm-clean'), { ...liquid, liquidityUsd: 0 })).toMatchObject({
      isSafe: false,
      risks: ['No liquidity in its trading pairs'],
    });
    expect(assessRisk(report('evm-clean'), { ...liquid, liquidityUsd: null })).toMatchObject({
      isSafe: false,
      risks: ['Liquidity not reported yet'],
    });
    expect(assessRisk(report('evm-clean'), { ...liquid, liquidityUsd: 420 })).toMatchObject({
      isSafe: true,
      riskScore: 15,
      risks: ['Very low liquidity ($420)'],
    });
  });

  it('a transfer fee of 10% or more is never safe; below 10% it is no finding', () => {
    expect(assessRisk(fee('0.25'), liquid)).toMatchObject({
      isSafe: false,
      verified: true,
      risks: ['Transfer fee 25%'],
    });
    expect(assessRisk(fee('0.1'), liquid)).toMatchObject({ isSafe: false, risks: ['Transfer fee 10%'] });
    expect(assessRisk(fee('0.09'), liquid)).toMatchObject({ isSafe: true, riskScore: 0, risks: [] });
  });

  it("GoPlus' trust list lowers the score but never makes a never-safe finding safe", () => {
    const v = assessRisk(report('evm-clean', { trust_list: '1' }), null);
    expect(v).toMatchObject({ riskScore: 10, isSafe: false, risks: ['No trading pair found yet'] });
  });

  it('every rule explains itself, and the explanation names the limit the rule uses', () => {
    for (const [name, r] of Object.entries(RISK_RULES)) {
      expect(r.help, name).toMatch(/^[A-Z]/);
      expect(r.points, name).toBeGreaterThan(0);
      // A never-safe finding reads as risky in the score as well as the verdict.
      if (r.neverSafe) expect(r.points, name).toBeGreaterThanOrEqual(SAFE_BELOW);
    }
    expect(RISK_RULES.transferFee.help).toContain(`${RISK_LIMITS.transferFee * 100}% or more`);
    expect(RISK_RULES.lowLiquidity.help).toContain(`$${RISK_LIMITS.lowLiquidityUsd.toLocaleString('en-US')}`);
  });
});

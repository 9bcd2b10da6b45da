import { UpstreamError } from '../../upstream/error';
import { limiter, type Budget, type RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';

/** DexScreener chain id → GoPlus chain id (EVM). Solana has its own endpoint. */
export const GOPLUS_CHAINS: Record<string, string> = {
  ethereum: '1',
  bsc: '56',
  polygon: '137',
  arbitrum: '42161',
  base: '8453',
  avalanche: '43114',
  optimism: '10',
  fantom: '250',
  cronos: '25',
  linea: '59144',
  blast: '81457',
  zksync: '324',
  scroll: '534352',
  mantle: '5000',
};

export type SecurityReport = { kind: 'evm' | 'solana'; data: Record<string, unknown> };
/** Per address: the report, or why there is none (the token is then stored unverified). */
export type SecurityResult = { ok: true; report: SecurityReport } | { ok: false; reason: string };

interface GoPlusBody {
  code: number;
  message?: string;
  result?: Record<string, Record<string, unknown>> | null;
}

const SERVICE = 'GoPlus';
const BATCH = 50;

// 4022/4023 (invalid or unknown token) are 401s: the vault's cue to renew once and retry.

/**
 * Where the access token comes from: the vault's "goplus" session (seeded from
 * GOPLUS_APP_KEY/GOPLUS_APP_SECRET), which signs for it, renews it before it expires and, on
 * an invalid-token answer, renews it once and retries.
 */
export interface GoPlusTokens {
  /** Is there a keyed session? Without one, look-ups go unkeyed (one address per call). */
  available(): Promise<boolean>;
  withToken<T>(call: (authorization: string) => Promise<T>): Promise<T>;
}

export class GoPlusClient {
  // Unkeyed limit is undocumented (~30/min observed); keyed calls carry a batch each.
  private readonly keyedBudget: Budget = limiter(60);
  private readonly unkeyedBudget: Budget = limiter(30);
  calls = 0;

  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly tokens: GoPlusTokens | null;

  constructor(deps: { baseUrl: string; policy: RetryPolicy; tokens: GoPlusTokens | null }) {
    ({ baseUrl: this.baseUrl, policy: this.policy, tokens: this.tokens } = deps);
  }

  /** Never throws for a token's own failure: each address gets a report or a reason. */
  async check(chain: string, addresses: string[]): Promise<Map<string, SecurityResult>> {
    const out = new Map<string, SecurityResult>();
    const solana = chain === 'solana';
    const chainId = GOPLUS_CHAINS[chain];
    if (!solana && !chainId) {
      for (const a of addresses)
        out.set(a, { ok: false, reason: `Security check unavailable (GoPlus does not cover ${chain})` });
      return out;
    }
    const keyed = (await this.tokens?.available()) ?? false;
    // Without an access token GoPlus answers only the first address of a batch.
    const size = keyed ? BATCH : 1;
    for (let i = 0; i < addresses.length; i += size) {
      const batch = addresses.slice(i, i + size);
      try {
        const path = solana ? '/api/v1/solana/token_security' : `/api/v1/token_security/${chainId}`;
        const result = keyed
          ? await this.tokens!.withToken((auth) => this.fetchBatch(path, batch, auth))
          : await this.fetchBatch(path, batch, null);
        for (const a of batch) {
          const data = result[solana ? a : a.toLowerCase()] ?? result[a];
          out.set(
            a,
            data
              ? { ok: true, report: { kind: solana ? 'solana' : 'evm', data } }
              : { ok: false, reason: 'Security check unavailable (GoPlus has no data yet)' },
          );
        }
      } catch (err) {
        // One bad address must not sink its neighbours: retry a batch that failed with a
        // server error one by one (not a credential or rate problem, which would fail them all).
        if (batch.length > 1 && err instanceof UpstreamError && err.status !== null && err.status >= 500) {
          for (const a of batch) out.set(a, (await this.check(chain, [a])).get(a)!);
          continue;
        }
        const why = err instanceof UpstreamError ? err.message : 'GoPlus failed';
        for (const a of batch) out.set(a, { ok: false, reason: `Security check unavailable (${why})` });
      }
    }
    return out;
  }

  private async fetchBatch(
    path: string,
    batch: string[],
    authorization: string | null,
  ): Promise<Record<string, Record<string, unknown>>> {
    this.calls++;
    const body = await requestJson<GoPlusBody>({
      service: SERVICE,
      url: `${this.baseUrl}${path}?contract_addresses=${batch.map(encodeURIComponent).join(',')}`,
      init: { headers: authorization ? { Authorization: authorization } : {} },
      budget: authorization ? this.keyedBudget : this.unkeyedBudget,
      policy: this.policy,
      check: checkBody,
    });
    return body.result ?? {};
  }
}

/** GoPlus reports many errors inside an HTTP 200 body. */
function checkBody(body: { code: number; message?: string }) {
  if (typeof body?.code !== 'number')
    throw new UpstreamError(SERVICE, 502, 'GoPlus sent an answer in an unexpected format');
  const { code, message } = body;
  // 1 = ok, 2 = partly still syncing (the missing addresses become "no data yet").
  if (code === 1 || code === 2) return;
  const detail = `GoPlus error ${code}${message ? `: ${message}` : ''}`;
  if (code === 4029) throw new UpstreamError(SERVICE, 429, detail, 2_000);
  if (code === 4022 || code === 4023) throw new UpstreamError(SERVICE, 401, detail);
  if (code === 2018) throw new UpstreamError(SERVICE, 400, detail);
  throw new UpstreamError(SERVICE, 500, detail);
}

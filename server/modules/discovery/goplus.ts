import { createHash } from 'node:crypto';
import { UpstreamError } from '../../upstream/error';
import { limiter, unlimited, type Budget, type RetryPolicy } from '../../upstream/policy';
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

class InvalidTokenError extends UpstreamError {}

export class GoPlusClient {
  // Unkeyed limit is undocumented (~30/min observed); keyed calls carry a batch each.
  private readonly budget: Budget;
  private token: { value: string; renewAt: number } | null = null;
  private renewing: Promise<string> | null = null;
  calls = 0;

  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly credentials: { appKey: string; appSecret: string } | null;

  constructor(deps: { baseUrl: string; policy: RetryPolicy; credentials: { appKey: string; appSecret: string } | null }) {
    ({ baseUrl: this.baseUrl, policy: this.policy, credentials: this.credentials } = deps);
    this.budget = limiter(deps.credentials ? 60 : 30);
  }

  /** Never throws for a token's own failure: each address gets a report or a reason. */
  async check(chain: string, addresses: string[]): Promise<Map<string, SecurityResult>> {
    const out = new Map<string, SecurityResult>();
    const solana = chain === 'solana';
    const chainId = GOPLUS_CHAINS[chain];
    if (!solana && !chainId) {
      for (const a of addresses) out.set(a, { ok: false, reason: `Security check unavailable (GoPlus does not cover ${chain})` });
      return out;
    }
    // Without an access token GoPlus answers only the first address of a batch.
    const size = this.credentials ? BATCH : 1;
    for (let i = 0; i < addresses.length; i += size) {
      const batch = addresses.slice(i, i + size);
      try {
        const result = await this.fetchBatch(solana ? null : chainId!, batch);
        for (const a of batch) {
          const data = result[solana ? a : a.toLowerCase()] ?? result[a];
          out.set(a, data ? { ok: true, report: { kind: solana ? 'solana' : 'evm', data } } : { ok: false, reason: 'Security check unavailable (GoPlus has no data yet)' });
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

  private async fetchBatch(chainId: string | null, batch: string[], renewed = false): Promise<Record<string, Record<string, unknown>>> {
    const path = chainId ? `/api/v1/token_security/${chainId}` : '/api/v1/solana/token_security';
    const headers: Record<string, string> = {};
    if (this.credentials) headers.Authorization = await this.accessToken();
    this.calls++;
    try {
      const body = await requestJson<GoPlusBody>({
        service: SERVICE,
        url: `${this.baseUrl}${path}?contract_addresses=${batch.map(encodeURIComponent).join(',')}`,
        init: { headers },
        budget: this.budget,
        policy: this.policy,
        check: checkBody,
      });
      return body.result ?? {};
    } catch (err) {
      if (err instanceof InvalidTokenError && !renewed) {
        this.token = null;
        return this.fetchBatch(chainId, batch, true);
      }
      throw err;
    }
  }

  /** One renewal at a time; renewed a fifth of its lifetime (at most 5 min) before expiry. */
  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    this.renewing ??= this.renew().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renew(): Promise<string> {
    const { appKey, appSecret } = this.credentials!;
    const time = Math.floor(Date.now() / 1000);
    const sign = createHash('sha1').update(`${appKey}${time}${appSecret}`).digest('hex');
    const body = await requestJson<{ code: number; message?: string; result?: { access_token?: string; expires_in?: number } }>({
      service: SERVICE,
      url: `${this.baseUrl}/api/v1/token`,
      init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ app_key: appKey, time, sign }) },
      budget: unlimited,
      policy: this.policy,
      check: checkBody,
    });
    const value = body.result?.access_token;
    const lifetime = body.result?.expires_in ?? 0;
    if (!value || lifetime <= 0) throw new UpstreamError(SERVICE, 502, 'GoPlus returned no access token');
    const margin = Math.min(300, lifetime / 5);
    this.token = { value, renewAt: Date.now() + (lifetime - margin) * 1000 };
    return value;
  }
}

/** GoPlus reports many errors inside an HTTP 200 body. */
function checkBody(body: { code: number; message?: string }) {
  const { code, message } = body;
  // 1 = ok, 2 = partly still syncing (the missing addresses become "no data yet").
  if (code === 1 || code === 2) return;
  const detail = `GoPlus error ${code}${message ? `: ${message}` : ''}`;
  if (code === 4029) throw new UpstreamError(SERVICE, 429, detail, 2_000);
  if (code === 4022 || code === 4023) throw new InvalidTokenError(SERVICE, 401, detail);
  if (code === 4011 || code === 4012) throw new UpstreamError(SERVICE, 401, `${detail} (check GOPLUS_APP_KEY / GOPLUS_APP_SECRET)`);
  if (code === 2018) throw new UpstreamError(SERVICE, 400, detail);
  throw new UpstreamError(SERVICE, 500, detail);
}

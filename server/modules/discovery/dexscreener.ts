import { UpstreamError } from '../../upstream/error';
import { limiter, type Budget, type RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';

/** An entry of /token-profiles/latest/v1 or /token-boosts/latest/v1. */
export interface DexProfile {
  url?: string;
  chainId: string;
  tokenAddress: string;
  icon?: string | null;
  description?: string | null;
  amount?: number;
}

export interface DexPair {
  chainId: string;
  dexId?: string;
  url?: string;
  pairAddress?: string;
  baseToken: { address: string; name?: string; symbol?: string };
  priceUsd?: string | null;
  volume?: { h24?: number | null } | null;
  liquidity?: { usd?: number | null } | null;
  fdv?: number | null;
  pairCreatedAt?: number | null;
  info?: { imageUrl?: string | null } | null;
}

/** What the scanner needs about a token's market, from its most liquid pair. */
export interface MarketFacts {
  name: string | null;
  symbol: string | null;
  priceUsd: number | null;
  liquidityUsd: number | null;
  volume24hUsd: number | null;
  fdvUsd: number | null;
  pairCreatedAt: Date | null;
  url: string | null;
  iconUrl: string | null;
}

const SERVICE = 'DexScreener';
const ADDRESSES_PER_CALL = 30;

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};

/** EVM addresses compare case-insensitively; Solana (base58) addresses do not. */
export const sameAddress = (a: string, b: string) =>
  a.startsWith('0x') ? a.toLowerCase() === b.toLowerCase() : a === b;

export class DexScreenerClient {
  // Published limits: 60/min for profiles and boosts, 300/min for pair look-ups.
  private readonly profileBudget = limiter(60);
  private readonly pairBudget = limiter(300);
  calls = 0;

  constructor(private readonly deps: { baseUrl: string; policy: RetryPolicy }) {}

  private get<T>(path: string, budget: Budget) {
    this.calls++;
    return requestJson<T>({ service: SERVICE, url: `${this.deps.baseUrl}${path}`, budget, policy: this.deps.policy });
  }

  async latestProfiles(): Promise<DexProfile[]> {
    return validProfiles(await this.get<unknown>('/token-profiles/latest/v1', this.profileBudget));
  }

  async latestBoosts(): Promise<DexProfile[]> {
    return validProfiles(await this.get<unknown>('/token-boosts/latest/v1', this.profileBudget));
  }

  /** Market facts per address (addresses without any pair are absent from the map). */
  async markets(chain: string, addresses: string[]): Promise<Map<string, MarketFacts>> {
    const out = new Map<string, MarketFacts>();
    for (let i = 0; i < addresses.length; i += ADDRESSES_PER_CALL) {
      const batch = addresses.slice(i, i + ADDRESSES_PER_CALL);
      const path = `/tokens/v1/${encodeURIComponent(chain)}/${batch.map(encodeURIComponent).join(',')}`;
      const pairs = await this.get<unknown>(path, this.pairBudget);
      // Not "no pairs": an answer we cannot read must not be stored as "no trading pair".
      if (!Array.isArray(pairs)) throw unexpectedShape('pairs');
      for (const address of batch) {
        const mine = (pairs as DexPair[]).filter(
          (p) => p?.baseToken?.address && sameAddress(p.baseToken.address, address),
        );
        if (mine.length) out.set(address, bestPairFacts(mine));
      }
    }
    return out;
  }
}

/** A 200 whose body is not the documented list: the API changed or something else answered. */
const unexpectedShape = (what: string) =>
  new UpstreamError(SERVICE, 502, `${SERVICE} sent ${what} in an unexpected format`);

function validProfiles(body: unknown): DexProfile[] {
  // An empty list is a quiet minute; anything but a list is a failure the scan must report.
  if (!Array.isArray(body)) throw unexpectedShape('token profiles');
  return body.filter(
    (p): p is DexProfile =>
      typeof p?.chainId === 'string' && typeof p?.tokenAddress === 'string' && p.tokenAddress.length > 0,
  );
}

/** The most liquid pair speaks for the token; young pairs often lack liquidity, fdv and age. */
function bestPairFacts(pairs: DexPair[]): MarketFacts {
  const best = [...pairs].sort((a, b) => (num(b.liquidity?.usd) ?? -1) - (num(a.liquidity?.usd) ?? -1))[0]!;
  const created = num(best.pairCreatedAt);
  return {
    name: best.baseToken.name?.trim() || null,
    symbol: best.baseToken.symbol?.trim() || null,
    priceUsd: num(best.priceUsd),
    liquidityUsd: num(best.liquidity?.usd),
    volume24hUsd: num(best.volume?.h24),
    fdvUsd: num(best.fdv),
    pairCreatedAt: created === null ? null : new Date(created),
    url: best.url ?? null,
    iconUrl: best.info?.imageUrl ?? null,
  };
}

import type { FakeUpstream } from './index';
import { applyFault, FailureQueue, hashOf, seededRandom, sendJson, serveLoopback, type Fault } from './serve';

/** A token the fake DexScreener knows; the fake GoPlus derives its security traits from the address. */
export interface FakeToken {
  chain: string;
  address: string;
  name: string;
  symbol: string;
  createdAt: number;
  priceUsd: number;
  liquidityUsd: number;
  /** Young pairs miss liquidity, fdv and age, as they do on the real API. */
  young: boolean;
  /** No pair at all yet: /tokens/v1 returns nothing for it. */
  unlisted: boolean;
}

export interface FakeDexScreener extends FakeUpstream {
  url: string;
  /** Every request path received, oldest first. */
  requests: string[];
  count(pathPrefix: string): number;
  /** The next `count` requests (optionally only under `path`) answer `status` (429 with Retry-After). */
  failNext(status: number, count?: number, opts?: { retryAfterSeconds?: number; path?: string }): void;
  /** Adds `n` brand-new tokens to the top of the latest-profiles feed now. */
  mint(n: number, chain?: string): FakeToken[];
  /** latencyMs delays every answer, as a real network does (keeps a scan in flight in tests). */
  configure(opts: { newPerCall?: number; pageSize?: number; latencyMs?: number }): void;
  /** Every token minted so far, oldest first. */
  tokens: FakeToken[];
  /** Every API request (or only those under `path`) misbehaves this way until `fault(null)`. */
  fault(f: Fault | null, path?: string): void;
}

const CHAINS = ['solana', 'solana', 'ethereum', 'bsc', 'base'];
const WORDS = [
  'Moon',
  'Pepe',
  'Doge',
  'Turbo',
  'Based',
  'Frog',
  'Cat',
  'Rocket',
  'Giga',
  'Shiba',
  'Neko',
  'Bonk',
  'Wif',
  'Chad',
  'Laser',
  'Sigma',
];
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export async function startFakeDexScreener(
  opts: { seed?: number; initial?: number; newPerCall?: number; pageSize?: number } = {},
): Promise<FakeDexScreener> {
  const rand = seededRandom(opts.seed ?? 7);
  const tokens: FakeToken[] = [];
  const byKey = new Map<string, FakeToken>();
  const requests: string[] = [];
  const failures = new FailureQueue();
  let newPerCall = opts.newPerCall ?? 3;
  let pageSize = opts.pageSize ?? 30;
  let latencyMs = 0;
  let fault: { f: Fault; path: string } | null = null;

  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const mint = (n: number, chain?: string) => {
    const made: FakeToken[] = [];
    for (let i = 0; i < n; i++) {
      const c = chain ?? pick(CHAINS);
      const address =
        c === 'solana'
          ? Array.from({ length: 44 }, () => pick([...B58])).join('')
          : `0x${Array.from({ length: 40 }, () => pick([...'0123456789abcdef'])).join('')}`;
      const word = `${pick(WORDS)}${pick(WORDS)}`;
      const h = hashOf(address);
      const t: FakeToken = {
        chain: c,
        address,
        name: `${word} ${tokens.length + 1}`,
        symbol: word.slice(0, 6).toUpperCase(),
        createdAt: Date.now() - Math.floor(rand() * 6 * 3600_000),
        priceUsd: Number((rand() * 2).toPrecision(4)) || 0.0001,
        liquidityUsd: Math.round(rand() ** 2 * 400_000),
        young: (h >>> 8) % 4 === 0,
        unlisted: (h >>> 12) % 20 === 0,
      };
      tokens.push(t);
      byKey.set(`${c}:${address.toLowerCase()}`, t);
      made.push(t);
    }
    return made;
  };
  mint(opts.initial ?? 0);

  // Icons come from this fake too (never the real CDN): demo and tests run offline.
  let base = '';
  const iconUrl = (t: FakeToken) => `${base}/icons/${t.chain}/${t.address}.svg`;
  const profile = (t: FakeToken) => ({
    url: `https://dexscreener.com/${t.chain}/${t.address}`,
    chainId: t.chain,
    tokenAddress: t.address,
    icon: iconUrl(t),
    header: null,
    description: `${t.name}: community token.`,
    links: [{ type: 'twitter', url: `https://x.com/${t.symbol.toLowerCase()}` }],
  });

  const pairs = (t: FakeToken) =>
    t.unlisted
      ? []
      : [
          {
            chainId: t.chain,
            dexId: t.chain === 'solana' ? 'raydium' : t.chain === 'bsc' ? 'pancakeswap' : 'uniswap',
            url: `https://dexscreener.com/${t.chain}/${t.address.slice(0, 12)}pair`,
            pairAddress: `${t.address.slice(0, 12)}pair`,
            labels: t.young ? undefined : ['v2'],
            baseToken: { address: t.address, name: t.name, symbol: t.symbol },
            quoteToken: { address: 'So11111111111111111111111111111111111111112', name: 'Wrapped SOL', symbol: 'SOL' },
            priceNative: String(t.priceUsd / 150),
            priceUsd: t.young ? null : String(t.priceUsd),
            txns: {
              m5: { buys: 3, sells: 1 },
              h1: { buys: 40, sells: 22 },
              h6: { buys: 200, sells: 150 },
              h24: { buys: 800, sells: 650 },
            },
            volume: { h24: Math.round(t.liquidityUsd * 1.7), h6: Math.round(t.liquidityUsd * 0.5), h1: 900, m5: 40 },
            priceChange: t.young ? undefined : { h1: 4.2, h24: -12.5 },
            liquidity: t.young ? undefined : { usd: t.liquidityUsd, base: 1_000_000, quote: t.liquidityUsd / 300 },
            fdv: t.young ? undefined : Math.round(t.priceUsd * 1e9),
            marketCap: t.young ? undefined : Math.round(t.priceUsd * 8e8),
            pairCreatedAt: t.young ? undefined : t.createdAt,
            info: { imageUrl: iconUrl(t), websites: [], socials: [] },
          },
        ];

  const server = await serveLoopback(async (_req, res, url) => {
    const path = url.pathname;
    // Images are not API calls: they stay out of `requests`, failures and latency.
    const icon = /^\/icons\/([^/]+)\/([^/]+)\.svg$/.exec(path);
    const known = icon && byKey.get(`${icon[1]}:${decodeURIComponent(icon[2]!).toLowerCase()}`);
    if (known)
      return void res
        .writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'max-age=86400' })
        .end(iconSvg(known));
    requests.push(path);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (fault && path.startsWith(fault.path) && (await applyFault(fault.f, res))) return;
    const fail = failures.take(path);
    if (fail) {
      const headers: Record<string, string> =
        fail.retryAfterSeconds !== undefined ? { 'Retry-After': String(fail.retryAfterSeconds) } : {};
      return sendJson(
        res,
        fail.status,
        { error: fail.status === 429 ? 'Too Many Requests' : 'Internal Server Error' },
        headers,
      );
    }
    const newest = () => tokens.slice(-pageSize).reverse();
    if (path === '/token-profiles/latest/v1') {
      mint(newPerCall);
      return sendJson(res, 200, newest().map(profile));
    }
    if (path === '/token-boosts/latest/v1') {
      const boosted = newest()
        .filter((t) => hashOf(t.address) % 3 === 0)
        .slice(0, 10);
      return sendJson(
        res,
        200,
        boosted.map((t, i) => ({ ...profile(t), amount: 10 * (i + 1), totalAmount: 50 * (i + 1) })),
      );
    }
    const m = /^\/(tokens\/v1|token-pairs\/v1)\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const [, kind, chain, list] = m;
      const addrs = decodeURIComponent(list!)
        .split(',')
        .slice(0, kind === 'tokens/v1' ? 30 : 1);
      const found = addrs.map((a) => byKey.get(`${chain}:${a.toLowerCase()}`)).filter((t): t is FakeToken => !!t);
      return sendJson(res, 200, found.flatMap(pairs));
    }
    sendJson(res, 404, { error: `Not found: ${path}` });
  });

  base = server.url;
  return {
    url: server.url,
    env: { DEXSCREENER_URL: server.url },
    close: server.close,
    requests,
    count: (prefix) => requests.filter((p) => p.startsWith(prefix)).length,
    failNext: (status, count, o) => failures.add(status, count, o),
    mint,
    configure(o) {
      newPerCall = o.newPerCall ?? newPerCall;
      pageSize = o.pageSize ?? pageSize;
      latencyMs = o.latencyMs ?? latencyMs;
    },
    tokens,
    fault: (f, path = '/') => void (fault = f && { f, path }),
  };
}

/** A 64 px circle in a colour from the address, with the symbol's first letter. */
function iconSvg(t: FakeToken): string {
  const hue = hashOf(t.address) % 360;
  const letter = (t.symbol[0] ?? '?').replace(/[^A-Z0-9]/gi, '?');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><circle cx="32" cy="32" r="32" fill="hsl(${hue},55%,45%)"/><text x="32" y="42" font-family="sans-serif" font-size="28" font-weight="bold" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
}

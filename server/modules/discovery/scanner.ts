import type { Logger } from '../../log';
import { parseProfileUrl, type ScanCounts } from '../../../shared/discovery';
import type { DexProfile, DexScreenerClient, MarketFacts } from './dexscreener';
import type { GoPlusClient } from './goplus';
import { assessRisk } from './risk';
import type { DiscoveryStore, StreamEvent, TokenDraft } from './store';

export interface ScanRequest {
  maxTokens: number;
  chain?: string | undefined;
  profileUrl?: string | undefined;
}

export interface ScannerDeps {
  dex: DexScreenerClient;
  goplus: GoPlusClient;
  store: DiscoveryStore;
  publish: (events: StreamEvent[]) => void;
  /** Records and publishes how far the scan is, so every page counts along while it runs. */
  announce: (progress: { checked: number; total: number; counts: ScanCounts }) => Promise<void>;
  log: Logger;
  /** Tokens checked and saved together; new ones appear to users after each chunk. */
  chunkSize: number;
}

const key = (chain: string, address: string) =>
  `${chain}:${address.startsWith('0x') ? address.toLowerCase() : address}`;

/** Latest profiles first, then boosts; de-duplicated, filtered by chain, at most maxTokens. */
async function candidates(dex: DexScreenerClient, req: ScanRequest): Promise<DexProfile[]> {
  if (req.profileUrl) {
    const { chain, address } = parseProfileUrl(req.profileUrl)!;
    return [{ chainId: chain, tokenAddress: address, url: req.profileUrl }];
  }
  const [profiles, boosts] = await Promise.allSettled([dex.latestProfiles(), dex.latestBoosts()]);
  if (profiles.status === 'rejected' && boosts.status === 'rejected') throw profiles.reason;
  const all = [
    ...(profiles.status === 'fulfilled' ? profiles.value : []),
    ...(boosts.status === 'fulfilled' ? boosts.value : []),
  ];
  const seen = new Set<string>();
  const out: DexProfile[] = [];
  for (const p of all) {
    const chain = p.chainId.toLowerCase();
    const k = key(chain, p.tokenAddress);
    if (seen.has(k) || (req.chain && chain !== req.chain)) continue;
    seen.add(k);
    out.push({ ...p, chainId: chain });
    if (out.length >= req.maxTokens) break;
  }
  return out;
}

/** One scan: find candidates, price them, check their security, store them, announce the new ones. */
export async function runScan(deps: ScannerDeps, scanId: number, req: ScanRequest): Promise<ScanCounts> {
  const found = await candidates(deps.dex, req);
  const counts: ScanCounts = {
    candidates: found.length,
    newTokens: 0,
    updatedTokens: 0,
    safe: 0,
    risky: 0,
    unverified: 0,
  };
  const byChain = new Map<string, DexProfile[]>();
  for (const p of found) byChain.set(p.chainId, [...(byChain.get(p.chainId) ?? []), p]);
  let checked = 0;
  await deps.announce({ checked, total: found.length, counts: { ...counts } });

  for (const [chain, group] of byChain) {
    for (let i = 0; i < group.length; i += deps.chunkSize) {
      const chunk = group.slice(i, i + deps.chunkSize);
      const addresses = chunk.map((p) => p.tokenAddress);
      let markets = new Map<string, MarketFacts>();
      let marketError: string | null = null;
      try {
        markets = await deps.dex.markets(chain, addresses);
      } catch (err) {
        // Prices are nice to have; the security verdict is the point, so carry on without them.
        marketError = err instanceof Error ? err.message : String(err);
        deps.log.warn({ chain, reason: marketError }, 'DexScreener pair look-up failed');
      }
      const security = await deps.goplus.check(chain, addresses);
      const drafts: TokenDraft[] = chunk.map((p) => {
        const market = markets.get(p.tokenAddress) ?? null;
        const verdict = assessRisk(security.get(p.tokenAddress)!, marketError ? emptyMarket : market);
        if (marketError) verdict.risks.push(`Market data unavailable (${marketError})`);
        if (!verdict.verified) counts.unverified++;
        else if (verdict.isSafe) counts.safe++;
        else counts.risky++;
        return {
          address: p.tokenAddress,
          chain,
          name: market?.name ?? 'Unnamed token',
          symbol: market?.symbol ?? '?',
          priceUsd: market?.priceUsd ?? null,
          liquidityUsd: market?.liquidityUsd ?? null,
          volume24hUsd: market?.volume24hUsd ?? null,
          fdvUsd: market?.fdvUsd ?? null,
          pairCreatedAt: market?.pairCreatedAt ?? null,
          // The token's own page (DexScreener resolves token addresses), not one of its pairs.
          url: p.url ?? `https://dexscreener.com/${chain}/${p.tokenAddress}`,
          iconUrl: p.icon ?? market?.iconUrl ?? null,
          ...verdict,
        };
      });
      checked += chunk.length;
      const { created, updated } = await deps.store.saveTokens(
        scanId,
        drafts,
        { checked, total: found.length },
        deps.publish,
      );
      counts.newTokens += created.length;
      counts.updatedTokens += updated;
      await deps.announce({ checked, total: found.length, counts: { ...counts } });
    }
  }
  return counts;
}

// Unknown market (look-up failed) must not read as "no trading pair".
const emptyMarket: MarketFacts = {
  name: null,
  symbol: null,
  priceUsd: null,
  liquidityUsd: null,
  volume24hUsd: null,
  fdvUsd: null,
  pairCreatedAt: null,
  url: null,
  iconUrl: null,
};

import { asc, count, desc, eq, getTableColumns, gt, isNotNull, lte, max, min, notInArray, sql, sum } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { discoveryEvents, discoveryScans, discoverySettings, tokens } from '../../db/schema';
import {
  DISCOVERY_CAPACITY,
  verdictOf,
  ZDiscoveryEvent,
  type DiscoveryEvent,
  type DiscoveryStatus,
  type ScanCounts,
  type Token,
} from '../../../shared/discovery';
import { lockStreams, type StreamLog, type Tx } from '../../realtime/record';
import type { StoredEvent } from '../../realtime/resumable';

/** The stream's bus topic and lock key. */
export const DISCOVERY_STREAM = 'discovery:events';

export type StreamEvent = DiscoveryEvent & { id: number; createdAt: Date };
export type TokenDraft = Omit<Token, 'id' | 'discoveredAt' | 'verdict'>;
export interface Settings {
  autoActive: boolean;
  intervalSeconds: number;
  maxTokens: number;
}

/** The events table is a replay window, not an archive. */
const EVENTS_KEPT = 5000;

type TokenRow = typeof tokens.$inferSelect;
const toToken = (r: TokenRow): Token => ({
  id: r.id,
  address: r.address,
  chain: r.chain,
  name: r.name,
  symbol: r.symbol,
  priceUsd: r.priceUsd,
  liquidityUsd: r.liquidityUsd,
  volume24hUsd: r.volume24hUsd,
  fdvUsd: r.fdvUsd,
  pairCreatedAt: r.pairCreatedAt,
  url: r.url,
  iconUrl: r.iconUrl,
  riskScore: r.riskScore,
  isSafe: r.isSafe,
  verified: r.verified,
  risks: r.risks,
  discoveredAt: r.discoveredAt,
  verdict: verdictOf(r),
});

export class DiscoveryStore {
  readonly db: Db;
  readonly streams: StreamLog;

  constructor(deps: { db: Db; streams: StreamLog }) {
    this.db = deps.db;
    this.streams = deps.streams;
  }

  async createScan(triggeredBy: string, maxTokens: number, chain: string | null): Promise<number> {
    const [row] = await this.db
      .insert(discoveryScans)
      .values({ triggeredBy, maxTokens, chain })
      .returning({ id: discoveryScans.id });
    return row!.id;
  }

  async finishScan(id: number, counts: ScanCounts, error: string | null) {
    await this.db
      .update(discoveryScans)
      .set({ ...counts, status: error ? 'failed' : 'completed', error, finishedAt: new Date() })
      .where(eq(discoveryScans.id, id));
  }

  /** The newest scan still running (on any instance), or null. */
  async runningScan(): Promise<number | null> {
    const [row] = await this.db
      .select({ id: discoveryScans.id })
      .from(discoveryScans)
      .where(eq(discoveryScans.status, 'running'))
      .orderBy(desc(discoveryScans.id))
      .limit(1);
    return row?.id ?? null;
  }

  /** Scans still "running" died with their process: only call it under the scan lock. */
  async failInterruptedScans() {
    await this.db
      .update(discoveryScans)
      .set({ status: 'failed', error: 'Interrupted by a server restart', finishedAt: new Date() })
      .where(eq(discoveryScans.status, 'running'));
  }

  /**
   * Upserts one batch of a scan's tokens, trims the store to its capacity and records a
   * new_token event per new token, all in one transaction; `publish` runs after the commit.
   */
  async saveTokens(
    scanId: number,
    drafts: TokenDraft[],
    progress: { checked: number; total: number },
    publish: (created: StreamEvent[]) => void,
  ) {
    if (drafts.length === 0) return { created: [] as StreamEvent[], updated: 0 };
    return this.streams.recordThenPublish(
      [],
      async (tx) => {
        const now = new Date();
        const rows = await tx
          .insert(tokens)
          .values(drafts.map((d) => ({ ...d, lastScanId: scanId, discoveredAt: now, updatedAt: now })))
          .onConflictDoUpdate({
            target: [tokens.chain, tokens.address],
            // discoveredAt is left alone: FIFO order is by first discovery.
            set: Object.fromEntries(
              (
                [
                  'name',
                  'symbol',
                  'priceUsd',
                  'liquidityUsd',
                  'volume24hUsd',
                  'fdvUsd',
                  'pairCreatedAt',
                  'url',
                  'iconUrl',
                  'riskScore',
                  'isSafe',
                  'verified',
                  'risks',
                  'updatedAt',
                  'lastScanId',
                ] as const
              ).map((k) => [k, sql.raw(`excluded.${k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)}`)]),
            ),
          })
          // xmax = 0 only on a freshly inserted row: tells "new" from "re-discovered".
          .returning({ ...getTableColumns(tokens), inserted: sql<boolean>`(xmax = 0)` });
        const fresh = rows.filter((r) => r.inserted).sort((a, b) => a.id - b.id);
        await this.prune(tx);
        const created = await this.recordEvents(
          tx,
          fresh.map((r) => ({ type: 'new_token', scanId, token: toToken(r), progress })),
        );
        return { created, updated: rows.length - fresh.length };
      },
      (saved) => publish(saved.created),
    );
  }

  private async prune(tx: Db) {
    const keep = tx
      .select({ id: tokens.id })
      .from(tokens)
      .orderBy(desc(tokens.discoveredAt), desc(tokens.id))
      .limit(DISCOVERY_CAPACITY);
    await tx.delete(tokens).where(notInArray(tokens.id, keep));
  }

  /** Under the stream lock, held to the caller's commit: ids must commit in order. */
  async recordEvents(tx: Tx, events: DiscoveryEvent[]): Promise<StreamEvent[]> {
    if (events.length === 0) return [];
    await lockStreams(tx, [DISCOVERY_STREAM]);
    const rows = await tx
      .insert(discoveryEvents)
      .values(events.map((e) => ({ type: e.type, payload: e })))
      .returning({ id: discoveryEvents.id, createdAt: discoveryEvents.createdAt });
    return rows.map((r, i) => ({ ...events[i]!, id: r.id, createdAt: r.createdAt }));
  }

  async replay(afterId: number, limit: number): Promise<StoredEvent<StreamEvent>[]> {
    const rows = await this.db
      .select()
      .from(discoveryEvents)
      .where(gt(discoveryEvents.id, afterId))
      .orderBy(asc(discoveryEvents.id))
      .limit(limit);
    // jsonb turned dates into strings; the shared schema turns them back.
    return rows.map((r) => ({
      id: r.id,
      data: { ...ZDiscoveryEvent.parse(r.payload), id: r.id, createdAt: r.createdAt },
    }));
  }

  /** The newest event id (0 when none): the stream's resume point for a new subscriber. */
  async eventsHead(): Promise<number> {
    const [row] = await this.db.select({ id: max(discoveryEvents.id) }).from(discoveryEvents);
    return row?.id ?? 0;
  }

  /** The lowest event id still stored (null when none): a resume from below it is told to reload. */
  async eventsRetainedFrom(): Promise<number | null> {
    const [row] = await this.db.select({ id: min(discoveryEvents.id) }).from(discoveryEvents);
    return row?.id ?? null;
  }

  async pruneEvents() {
    const [top] = await this.db.select({ id: max(discoveryEvents.id) }).from(discoveryEvents);
    if (top?.id != null && top.id > EVENTS_KEPT)
      await this.db.delete(discoveryEvents).where(lte(discoveryEvents.id, Number(top.id) - EVENTS_KEPT));
  }

  async settings(): Promise<Settings | null> {
    const [row] = await this.db.select().from(discoverySettings).where(eq(discoverySettings.id, 1));
    return row ? { autoActive: row.autoActive, intervalSeconds: row.intervalSeconds, maxTokens: row.maxTokens } : null;
  }

  async saveSettings(s: Settings, updatedBy: string) {
    const values = { ...s, updatedBy, updatedAt: new Date() };
    await this.db
      .insert(discoverySettings)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: discoverySettings.id, set: values });
  }

  async recent(limit: number, chain: string | undefined): Promise<Token[]> {
    const rows = await this.db
      .select()
      .from(tokens)
      .where(chain ? eq(tokens.chain, chain) : undefined)
      .orderBy(desc(tokens.discoveredAt), desc(tokens.id))
      .limit(limit);
    return rows.map(toToken);
  }

  async figures() {
    const [scans] = await this.db
      .select({ total: count(), lastAt: max(discoveryScans.startedAt), discovered: sum(discoveryScans.newTokens) })
      .from(discoveryScans);
    const [t] = await this.db
      .select({
        total: count(),
        safe: count(sql`case when ${tokens.isSafe} then 1 end`),
        risky: count(sql`case when ${tokens.verified} and not ${tokens.isSafe} then 1 end`),
        unverified: count(sql`case when not ${tokens.verified} then 1 end`),
      })
      .from(tokens);
    return {
      totalScans: scans!.total,
      lastScanAt: scans!.lastAt ? new Date(scans!.lastAt) : null,
      totalTokensDiscovered: Number(scans!.discovered ?? 0),
      tokensInDatabase: t!.total,
      safeTokens: t!.safe,
      riskyTokens: t!.risky,
      unverifiedTokens: t!.unverified,
    };
  }

  /** The newest finished scan (completed or failed), for the status panel. */
  async lastFinishedScan(): Promise<DiscoveryStatus['lastScan']> {
    const [row] = await this.db
      .select()
      .from(discoveryScans)
      .where(isNotNull(discoveryScans.finishedAt))
      .orderBy(desc(discoveryScans.finishedAt), desc(discoveryScans.id))
      .limit(1);
    if (!row || row.status === 'running') return null;
    return {
      scanId: row.id,
      outcome: row.status,
      finishedAt: row.finishedAt!,
      error: row.error,
      candidates: row.candidates,
      newTokens: row.newTokens,
    };
  }

  /** Tokens whose latest check was scan `id`; new = first discovered by it. */
  async scanTokens(id: number) {
    const rows = await this.db.select().from(tokens).where(eq(tokens.lastScanId, id)).orderBy(asc(tokens.id));
    const scan = await this.scan(id);
    return rows.map((r) => ({ token: toToken(r), isNew: scan !== null && r.discoveredAt >= scan.startedAt }));
  }

  async scan(id: number) {
    const [row] = await this.db.select().from(discoveryScans).where(eq(discoveryScans.id, id));
    return row ?? null;
  }
}

import type { Config } from '../../config';
import { AppError } from '../../errors';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import { topic, type EventBus } from '../../realtime/bus';
import type { StreamLog } from '../../realtime/record';
import type { StoredEvent } from '../../realtime/resumable';
import { sharedTopic, type StreamScope } from '../../realtime/streams';
import {
  DISCOVERY_CAPACITY,
  type DiscoveryEvent,
  type DiscoveryStatus,
  type TriggerInput,
} from '../../../shared/discovery';
import { DexScreenerClient } from './dexscreener';
import { GoPlusClient, type GoPlusTokens } from './goplus';
import { runScan, type ScanRequest } from './scanner';
import { DISCOVERY_STREAM, DiscoveryStore, type Settings, type StreamEvent } from './store';
import { UpstreamError } from '../../upstream/error';
import { upstreamPolicy } from '../../upstream/policy';
import type { ClusterLock, Singleton } from '../../cluster/elector';
import { guarded } from '../../guarded';

const discoveryTopic = topic<StoredEvent<StreamEvent>>(DISCOVERY_STREAM);

interface RunningScan {
  /** The scan's id; `elsewhere` when it runs on another instance and this trigger joined it. */
  scan: Promise<{ scanId: number; elsewhere: boolean }>;
  done: Promise<void>;
}

// Another instance may hold the lock with no running row: between its lock and its row, or its
// row's end and its unlock (milliseconds). Ask again this often, this long, before giving up.
const JOIN_RETRY_MS = 25;
const JOIN_GIVE_UP_MS = 5_000;

/**
 * Token discovery, shared by every user: one scan at a time in the cluster (a trigger during a
 * scan, on any instance, joins it), results stored FIFO and announced on a resumable stream,
 * optional auto-discovery.
 */
export class DiscoveryService {
  readonly store: DiscoveryStore;
  readonly dex: DexScreenerClient;
  readonly goplus: GoPlusClient;
  private current: RunningScan | null = null;
  /** The newest scan's whole run (final event and pruning included): close() waits for it. */
  private lastDone: Promise<void> = Promise.resolve();
  private currentId: number | null = null;
  private settings: Settings;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private readonly bus: EventBus;
  private readonly log: Logger;
  private readonly config: Config;
  /** With several instances only the leader of this singleton starts auto scans. */
  private readonly autoScan: Singleton | undefined;
  /** Held for each scan's whole run: one scan per cluster. */
  private readonly scanLock: ClusterLock;
  private readonly unsubscribeStatus: () => void;
  private settingsChanges = 0;

  /** `goplusTokens`: the vault's GoPlus session; without it look-ups go unkeyed. */
  constructor(deps: {
    db: Db;
    bus: EventBus;
    streams: StreamLog;
    log: Logger;
    config: Config;
    goplusTokens?: GoPlusTokens;
    autoScan?: Singleton;
    scanLock: ClusterLock;
  }) {
    const { db, config } = deps;
    ({ bus: this.bus, log: this.log, config: this.config, autoScan: this.autoScan, scanLock: this.scanLock } = deps);
    // An admin's start/stop on another instance reaches this one's schedule through the bus.
    this.autoTick = guarded(this.log, 'auto-discovery timer', () => {
      if (this.autoScan && !this.autoScan.isLeader()) return this.schedule();
      return this.trigger('auto', { maxTokens: this.settings.maxTokens })
        .catch((err) => this.log.error({ err }, 'auto-discovery trigger failed'))
        .finally(() => this.schedule());
    });
    this.unsubscribeStatus = this.bus.subscribe(
      discoveryTopic,
      guarded(
        this.log,
        'discovery settings reload',
        ({ data: e }: { data: StreamEvent }) => e.type === 'discovery_status' && this.reloadSettings(),
      ),
    );
    this.store = new DiscoveryStore({ db, streams: deps.streams });
    const policy = upstreamPolicy(config);
    this.dex = new DexScreenerClient({ baseUrl: config.DEXSCREENER_URL, policy });
    this.goplus = new GoPlusClient({ baseUrl: config.GOPLUS_URL, policy, tokens: deps.goplusTokens ?? null });
    this.settings = {
      autoActive: config.AUTO_START_DISCOVERY,
      intervalSeconds: config.DISCOVERY_INTERVAL,
      maxTokens: config.DISCOVERY_MAX_TOKENS,
    };
  }

  /** Loads the stored auto-discovery choice (env gives the defaults until an admin decides). */
  async start() {
    // Nobody scanning anywhere: a "running" row is a dead process's. Held: another instance's, alive.
    await this.scanLock.tryRun(() => this.store.failInterruptedScans());
    this.settings = (await this.store.settings()) ?? this.settings;
    this.schedule();
  }

  async trigger(triggeredBy: string, input: TriggerInput): Promise<{ scanId: number; joined: boolean }> {
    if (this.closed) throw new Error('discovery is shut down');
    // Single flight within this process first (no lock round trip for a trigger that joins);
    // the cluster lock then decides between starting a scan and joining another instance's.
    const joined = this.current !== null;
    this.current ??= this.begin(triggeredBy, input);
    const { scanId, elsewhere } = await this.current.scan;
    return { scanId, joined: joined || elsewhere };
  }

  /** Must stay synchronous up to setting `current`, or concurrent triggers would each start one. */
  private begin(triggeredBy: string, req: ScanRequest): RunningScan {
    let settle!: (s: { scanId: number; elsewhere: boolean }) => void;
    let refuse!: (err: unknown) => void;
    const scan = new Promise<{ scanId: number; elsewhere: boolean }>((resolve, reject) => {
      settle = resolve;
      refuse = reject;
    });
    const running: RunningScan = { scan, done: Promise.resolve() };
    running.done = this.startOrJoin(triggeredBy, req, running, settle)
      .catch((err) => {
        refuse(err);
        // An AppError is the trigger's answer, not our bug.
        if (!(err instanceof AppError)) this.log.error({ err }, 'discovery scan could not start');
      })
      .finally(() => this.release(running));
    this.lastDone = Promise.all([this.lastDone, running.done]).then(() => undefined);
    return running;
  }

  /** Runs the scan under the cluster lock, or hands back the id of the one another instance runs. */
  private async startOrJoin(
    triggeredBy: string,
    req: ScanRequest,
    running: RunningScan,
    settle: (s: { scanId: number; elsewhere: boolean }) => void,
  ) {
    const giveUpAt = Date.now() + JOIN_GIVE_UP_MS;
    for (;;) {
      const ran = await this.scanLock.tryRun(async () => {
        // Under the lock nothing else scans: a row still "running" is a dead instance's.
        await this.store.failInterruptedScans();
        const scanId = await this.store.createScan(triggeredBy, req.maxTokens, req.chain ?? null);
        settle({ scanId, elsewhere: false });
        await this.run(scanId, triggeredBy, req, () => this.release(running));
      });
      if (ran.held) return;
      const other = await this.store.runningScan();
      if (other !== null) return settle({ scanId: other, elsewhere: true });
      if (Date.now() > giveUpAt)
        throw new AppError('CONFLICT', 'Another server is starting or ending a scan. Try again in a moment.');
      await new Promise((r) => setTimeout(r, JOIN_RETRY_MS));
    }
  }

  /**
   * The scan's outcome is stored: from now on status says "not scanning" and a trigger starts a
   * new scan, before the final event goes out (a page refreshing status on it must not still
   * see this scan running). Only clears `current` if it is still this scan.
   */
  private release(running: RunningScan) {
    if (this.current !== running) return;
    this.current = null;
    this.currentId = null;
  }

  private async run(scanId: number, triggeredBy: string, req: ScanRequest, release: () => void) {
    this.currentId = scanId;
    const started = Date.now();
    // Everyone sees this event: say who started it only as "auto" or "user", never which user.
    await this.emit([
      {
        type: 'scan_started',
        scanId,
        triggeredBy: triggeredBy === 'auto' ? 'auto' : 'user',
        maxTokens: req.maxTokens,
        chain: req.chain ?? null,
      },
    ]);
    try {
      const counts = await runScan(
        {
          dex: this.dex,
          goplus: this.goplus,
          store: this.store,
          publish: (e) => this.publish(e),
          announce: (p) => this.emit([{ type: 'scan_progress', scanId, ...p }]),
          log: this.log,
          chunkSize: this.goplusChunk(),
        },
        scanId,
        req,
      );
      await this.store.finishScan(scanId, counts, null);
      release();
      const durationMs = Date.now() - started;
      this.log.info(
        { scanId, triggeredBy: triggeredBy === 'auto' ? 'auto' : 'user', durationMs, ...counts },
        'discovery scan completed',
      );
      await this.emit([{ type: 'scan_completed', scanId, durationMs, counts }]);
    } catch (err) {
      const message =
        err instanceof UpstreamError
          ? `Scan failed: ${err.message}. Try again in a minute.`
          : 'Scan failed: internal error.';
      // An upstream outage is expected (one line, its reason); anything else is our bug (with its stack).
      if (err instanceof UpstreamError) this.log.warn({ scanId, reason: err.message }, 'discovery scan failed');
      else this.log.error({ err, scanId }, 'discovery scan failed');
      const zero = { candidates: 0, newTokens: 0, updatedTokens: 0, safe: 0, risky: 0, unverified: 0 };
      await this.store.finishScan(scanId, zero, message);
      release();
      await this.emit([{ type: 'scan_error', scanId, message }]);
    }
    await this.store.pruneEvents();
  }

  private goplusChunk() {
    // Keyed calls take a batch; unkeyed ones one address each, so smaller chunks show progress sooner.
    return this.config.GOPLUS_APP_KEY && this.config.GOPLUS_APP_SECRET ? 30 : 5;
  }

  private async emit(events: DiscoveryEvent[]) {
    await this.store.streams.recordThenPublish(
      [],
      (tx) => this.store.recordEvents(tx, events),
      (stored) => this.publish(stored),
    );
  }

  /** Only after the rows are committed: a replaying client must be able to find them. */
  private publish(events: StreamEvent[]) {
    for (const e of events) this.bus.publish(discoveryTopic, { id: e.id, data: e });
  }

  async status(): Promise<DiscoveryStatus> {
    const [f, lastScan, running] = await Promise.all([
      this.store.figures(),
      this.store.lastFinishedScan(),
      // Another instance's scan is as much "the" scan as this one's.
      this.store.runningScan(),
    ]);
    return {
      lastScan,
      scanning: this.current !== null || running !== null,
      currentScanId: this.currentId ?? running,
      autoDiscoveryActive: this.settings.autoActive,
      autoDiscoveryInterval: this.settings.intervalSeconds,
      autoDiscoveryMaxTokens: this.settings.maxTokens,
      lastScanAt: f.lastScanAt,
      totalScans: f.totalScans,
      tokensInDatabase: f.tokensInDatabase,
      databaseCapacity: DISCOVERY_CAPACITY,
    };
  }

  async stats() {
    const f = await this.store.figures();
    return {
      totalScans: f.totalScans,
      totalTokensDiscovered: f.totalTokensDiscovered,
      safeTokens: f.safeTokens,
      riskyTokens: f.riskyTokens,
      unverifiedTokens: f.unverifiedTokens,
      lastScanAt: f.lastScanAt,
      autoDiscoveryActive: this.settings.autoActive,
      databaseUsage: f.tokensInDatabase,
      databaseUsagePercent: Math.round((f.tokensInDatabase / DISCOVERY_CAPACITY) * 1000) / 10,
    };
  }

  async recent(limit: number, chain: string | undefined) {
    const tokens = await this.store.recent(limit, chain);
    return { tokens, count: tokens.length };
  }

  /** NOT_FOUND for an unknown scan: scans are shared, so any signed-in user may read any. */
  async scanTokens(scanId: number) {
    const scan = await this.store.scan(scanId);
    if (!scan) throw new AppError('NOT_FOUND', `There is no scan ${scanId}.`);
    return { scanId, status: scan.status, tokens: await this.store.scanTokens(scanId) };
  }

  async autoStart(userId: string, opts: { intervalSeconds: number; maxTokens: number }) {
    await this.setAuto({ autoActive: true, ...opts }, userId);
    // Start now rather than one interval from now; joins a scan already running.
    await this.trigger('auto', { maxTokens: opts.maxTokens });
    return this.status();
  }

  async autoStop(userId: string) {
    await this.setAuto({ ...this.settings, autoActive: false }, userId);
    return this.status();
  }

  /**
   * Re-reads the stored choice (the latest, whoever made it) rather than trusting the event: an
   * event of this instance's may come back after a newer change. A change made here meanwhile wins.
   */
  private async reloadSettings() {
    const seen = this.settingsChanges;
    const stored = await this.store.settings().catch(() => null);
    if (!stored || seen !== this.settingsChanges || this.closed) return;
    const s = this.settings;
    if (
      s.autoActive === stored.autoActive &&
      s.intervalSeconds === stored.intervalSeconds &&
      s.maxTokens === stored.maxTokens
    )
      return;
    this.settings = stored;
    this.schedule();
  }

  private async setAuto(settings: Settings, userId: string) {
    // Counted before and after the save: a reload overlapping it in any way is dropped.
    this.settingsChanges++;
    await this.store.saveSettings(settings, userId);
    this.settingsChanges++;
    this.settings = settings;
    this.schedule();
    await this.emit([
      {
        type: 'discovery_status',
        autoDiscoveryActive: settings.autoActive,
        autoDiscoveryInterval: settings.intervalSeconds,
        autoDiscoveryMaxTokens: settings.maxTokens,
      },
    ]);
  }

  private schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.settings.autoActive || this.closed) return;
    // One timer per instance, so a follower is ready to take over; only the leader scans.
    this.timer = setTimeout(this.autoTick, this.settings.intervalSeconds * this.config.DISCOVERY_TICK_MS);
    this.timer.unref();
  }

  /** One guarded callback for every auto-scan timer, so a failure repeating each interval is logged once a minute. */
  private readonly autoTick: () => void;

  /** Whether a timer will start another auto scan (tests check that stopping leaves none). */
  get autoScheduled(): boolean {
    return this.timer !== null;
  }

  events(lastEventId: string | null | undefined, scope: StreamScope) {
    return sharedTopic<StreamEvent>(scope, {
      bus: this.bus,
      topic: discoveryTopic,
      lastEventId,
      replay: (afterId, limit) => this.store.replay(afterId, limit),
      head: () => this.store.eventsHead(),
      retainedFrom: () => this.store.eventsRetainedFrom(),
    });
  }

  /** Waits (briefly) for a running scan so it does not write into a closed database. */
  async close() {
    this.closed = true;
    this.unsubscribeStatus();
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.lastDone, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}

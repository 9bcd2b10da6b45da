import superjson from 'superjson';
import {
  LocalHandlers,
  PublishHold,
  type BusStats,
  type EventBus,
  type HeldPublish,
  type Topic,
} from '../realtime/bus';

/** One bus message as it crosses instances (superjson: Dates and the like survive). */
interface Wire {
  /** Origin instance: it already delivered this locally unless `all`. */
  o: string;
  /** Sent inside a transaction: the origin delivers it from the broker too, in commit order. */
  all: boolean;
  /** Sent at (ms since epoch): bus lag is measured against it. */
  s: number;
  /** This instance's message number: no two messages are the same text (Postgres folds identical notifications of one transaction). */
  n: number;
  t: string;
  p: unknown;
}

/**
 * What both cross-instance buses share: local handlers, the wire format, and the rules for
 * who delivers what. A publish outside a transaction is delivered here at once and sent to
 * the others (its echo is ignored); a publish held by `recordThenPublish` is only sent
 * with the commit (Postgres: inside the transaction; Redis: just before it, under its stream
 * locks), and every instance (this one too) delivers it when the broker hands it
 * back, so all instances see one stream's events in the same, commit, order. A local publish
 * on a topic that still has such stored events on their way back waits behind them, so a
 * forming candle never overtakes the closed candle published before it.
 */
export abstract class CrossInstanceBus implements EventBus {
  protected readonly local: LocalHandlers;
  private readonly hold = new PublishHold();
  private published = 0;
  private sent = 0;
  private received = 0;
  private lagMs: number | null = null;
  private maxLagMs = 0;
  private reconnects = 0;
  private readonly missedListeners = new Set<() => void>();
  protected closed = false;
  /** Messages waiting for delivery, in broker order (a by-reference payload is read back first). */
  private inbox: (string | Promise<string | null>)[] = [];
  private draining = false;
  /**
   * Per topic: this instance's committed stored events whose echo has not come back yet (below
   * zero for a moment when the echo beats `afterCommit`), and the local publishes queued behind them.
   */
  private readonly inFlight = new Map<string, number>();
  private readonly behind = new Map<string, unknown[]>();

  constructor(
    protected readonly kind: 'postgres' | 'redis',
    protected readonly instanceId: string,
    protected readonly onHandlerError: (err: unknown) => void,
  ) {
    this.local = new LocalHandlers(onHandlerError);
  }

  /** Sends one encoded message outside any transaction; must keep the order of calls. */
  protected abstract send(text: string): void;
  /** Sends encoded messages from inside the committing transaction, in order. */
  protected abstract sendWithin(tx: Parameters<EventBus['beforeCommit']>[0], texts: string[]): Promise<void>;

  protected encode(t: Topic<unknown>, payload: unknown, all: boolean): string {
    const wire: Wire = { o: this.instanceId, all, s: Date.now(), n: ++this.sent, t: t.name, p: payload };
    return superjson.stringify(wire);
  }

  publish<T>(t: Topic<T>, payload: T): void {
    if (this.hold.hold(t, payload)) return;
    this.published++;
    if ((this.inFlight.get(t.name) ?? 0) > 0) {
      const queue = this.behind.get(t.name);
      if (queue) queue.push(payload);
      else this.behind.set(t.name, [payload]);
    } else this.local.deliver(t.name, payload);
    if (!this.closed) this.send(this.encode(t, payload, false));
  }

  capturePublishes(fn: () => void): HeldPublish[] {
    return this.hold.capture(fn);
  }

  async beforeCommit(tx: Parameters<EventBus['beforeCommit']>[0], held: HeldPublish[]): Promise<void> {
    await this.sendWithin(
      tx,
      held.map((h) => this.encode(h.topic, h.payload, true)),
    );
  }

  afterCommit(held: HeldPublish[]): void {
    // Delivered when the broker hands them back (see the class comment).
    this.published += held.length;
    for (const h of held) this.echoPending(h.topic.name, +1);
  }

  /** Counts stored events still on their way back; at zero, the local publishes held behind them go out, in order. */
  private echoPending(topic: string, change: number) {
    const n = (this.inFlight.get(topic) ?? 0) + change;
    if (n !== 0) this.inFlight.set(topic, n);
    else this.inFlight.delete(topic);
    if (n > 0) return;
    const queue = this.behind.get(topic);
    if (!queue) return;
    this.behind.delete(topic);
    for (const payload of queue) this.local.deliver(topic, payload);
  }

  subscribe<T>(t: Topic<T>, handler: (payload: T) => void): () => void {
    return this.local.add(t.name, handler as (payload: unknown) => void);
  }

  onMissed(listener: () => void): () => void {
    this.missedListeners.add(listener);
    return () => void this.missedListeners.delete(listener);
  }

  /** The listening connection is back after a drop: whatever was sent meanwhile never arrived. */
  protected listenerReconnected() {
    this.reconnects++;
    // Echoes sent while the listener was down never come: nothing may wait for them any more.
    for (const topic of [...this.inFlight.keys()]) {
      this.inFlight.set(topic, 1);
      this.echoPending(topic, -1);
    }
    for (const listener of this.missedListeners) {
      try {
        listener();
      } catch (err) {
        this.onHandlerError(err);
      }
    }
  }

  /** A message from the broker, or the promise of one still being read back; delivered in arrival order. */
  protected receive(message: string | Promise<string | null>) {
    this.inbox.push(message);
    if (!this.draining) this.drain().catch(this.onHandlerError);
  }

  private async drain() {
    this.draining = true;
    try {
      while (this.inbox.length) {
        const next = this.inbox.shift()!;
        const text =
          typeof next === 'string' ? next : await next.catch((err: unknown) => (this.onHandlerError(err), null));
        if (text !== null) this.deliverRemote(text);
      }
    } finally {
      this.draining = false;
    }
  }

  private deliverRemote(text: string) {
    let wire: Wire;
    try {
      wire = superjson.parse<Wire>(text);
    } catch (err) {
      this.onHandlerError(err);
      return;
    }
    if (wire.o === this.instanceId && !wire.all) return;
    this.received++;
    const lag = Math.max(0, Date.now() - wire.s);
    this.lagMs = lag;
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    this.local.deliver(wire.t, wire.p);
    if (wire.o === this.instanceId) this.echoPending(wire.t, -1);
  }

  stats(): BusStats {
    return {
      kind: this.kind,
      ...this.local.counts(),
      published: this.published,
      received: this.received,
      lagMs: this.lagMs,
      maxLagMs: this.maxLagMs,
      reconnects: this.reconnects,
    };
  }

  abstract close(): Promise<void>;
}

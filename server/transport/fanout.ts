import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { EventBus, Topic } from '../realtime/bus';
import { failureReporter } from '../guarded';
import type { Logger } from '../log';
import { wsCounters } from './counters';
import {
  buildFrame,
  dataMessage,
  encodeEvent,
  encodeCounter,
  writeFrame,
  type EncodedEvent,
  type Frame,
  type Serialize,
  type WireEvent,
} from './frames';
import { rawSocketOf } from './internals';

/** The part of a connection the fan-out needs: its socket and how to cut it when it lags. */
export interface FanoutConnection {
  readonly ws: WebSocket;
  readonly cut: boolean;
  cutSlow(): void;
}

/** One subscription attached to a topic: the socket plus its envelope head (request id). */
export interface Sink {
  readonly conn: FanoutConnection;
  readonly head: string;
  detached: boolean;
  /** Newest live-only update held back while the socket was behind (conflation). */
  held: EncodedEvent | null;
  flushArmed: boolean;
}

export interface FanoutLimits {
  /** Unsent bytes past which a socket is cut ("resume from your last id"). */
  maxBufferedBytes: number;
  /** Unsent bytes past which live-only updates are conflated to the newest. */
  conflateBytes: number;
  /** Sockets written per turn of the event loop, so keep-alives and I/O run during a burst. */
  batch: number;
  /** Where a write that threw is reported (set by FanoutHub). */
  failed?: (err: unknown) => void;
}

/**
 * One fan-out per shared topic: one bus handler, one encoding per event, one loop over the
 * attached sockets; the frame is built once per distinct envelope (usually one: clients
 * number their requests the same way).
 */
class TopicFanout<P extends object> {
  readonly sinks = new Set<Sink>();
  private snapshot: Sink[] | null = null;
  readonly queued: P[] = [];
  private running = false;
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    topic: Topic<P>,
    private readonly toWire: (p: P) => WireEvent,
    private readonly serialize: Serialize,
    private readonly limits: FanoutLimits,
    private readonly onEmpty: () => void,
    private readonly failed: (err: unknown) => void,
  ) {
    this.unsubscribe = bus.subscribe(topic, (p) => {
      this.queued.push(p);
      if (this.running) return;
      // Started after the current task: events published together (a burst, a backlog) share writes.
      this.running = true;
      queueMicrotask(() => void this.run().catch(this.failed));
    });
  }

  add(sink: Sink) {
    this.sinks.add(sink);
    this.snapshot = null;
  }

  remove(sink: Sink) {
    sink.detached = true;
    this.sinks.delete(sink);
    this.snapshot = null;
    if (this.sinks.size === 0) {
      this.unsubscribe();
      this.onEmpty();
    }
  }

  private async run() {
    try {
      while (this.queued.length > 0) {
        // Events that piled up while the previous ones were being written go out together:
        // one write per socket for all of them, which is what keeps a burst cheap.
        const payloads = this.queued.splice(0, MAX_COALESCED);
        const encs = payloads.map((p) => encodeEvent(p, this.toWire as (p: never) => WireEvent, this.serialize));
        wsCounters.fanoutEvents += encs.length;
        // Sinks attached after this point got these events from their own catch-up queue.
        const sinks = (this.snapshot ??= [...this.sinks]);
        const frames = new Frames(encs);
        for (let i = 0; i < sinks.length; i++) {
          if (i > 0 && i % this.limits.batch === 0) await yieldToLoop();
          // One socket that fails to take its write must not cost the others theirs.
          try {
            deliverAll(sinks[i]!, encs, frames, this.limits);
          } catch (err) {
            this.failed(err);
          }
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** At most this many queued events share one write per socket. */
const MAX_COALESCED = 32;

/** What one socket is written for a run of events: one buffer of frames, and the messages for the fallback path. */
interface Built {
  frame: Frame;
  messages: string[];
}

function build(head: string, encs: EncodedEvent[]): Built {
  const messages = encs.map((e) => dataMessage(head, e));
  return {
    frame: encs.length === 1 ? buildFrame(messages[0]!) : [Buffer.concat(messages.map((m) => buildFrame(m)[0]))],
    messages,
  };
}

/**
 * The frames of a run of events, one per distinct envelope head. Clients number their requests
 * the same way, so nearly every socket takes the first: a string compare, not a lookup.
 */
class Frames {
  private firstHead: string | null = null;
  private first: Built | null = null;
  private others: Map<string, Built> | null = null;

  constructor(private readonly encs: EncodedEvent[]) {}

  for(head: string): Built {
    if (head === this.firstHead) return this.first!;
    let b = this.others?.get(head);
    if (!b) {
      b = build(head, this.encs);
      if (this.firstHead === null) [this.firstHead, this.first] = [head, b];
      else (this.others ??= new Map()).set(head, b);
    }
    return b;
  }
}

function write(sink: Sink, b: Built) {
  // Whatever it was holding back is superseded (a closed candle replaces its forming one).
  sink.held = null;
  writeFrame(sink.conn.ws, b.frame, b.messages);
  wsCounters.fanoutWrites++;
  wsCounters.messagesSent += b.messages.length;
  wsCounters.bytesSent += b.frame[0].length;
}

/** A run of events to one socket: one write when it keeps up, event by event when it is behind. */
function deliverAll(sink: Sink, encs: EncodedEvent[], frames: Frames, limits: FanoutLimits) {
  if (encs.length === 1) return deliver(sink, encs[0]!, frames, limits);
  const { conn } = sink;
  if (sink.detached || conn.cut || conn.ws.readyState !== 1) return;
  // Behind: each event on its own, so forming updates conflate and the cut comes when due.
  if (conn.ws.bufferedAmount > limits.conflateBytes) {
    for (const enc of encs) deliver(sink, enc, null, limits);
    return;
  }
  write(sink, frames.for(sink.head));
}

function deliver(sink: Sink, enc: EncodedEvent, frames: Frames | null, limits: FanoutLimits) {
  const { conn } = sink;
  if (sink.detached || conn.cut || conn.ws.readyState !== 1) return;
  const buffered = conn.ws.bufferedAmount;
  if (buffered > limits.maxBufferedBytes) return conn.cutSlow();
  if (enc.trackedId === null && buffered > limits.conflateBytes) return hold(sink, enc, limits);
  write(sink, frames ? frames.for(sink.head) : build(sink.head, [enc]));
}

/**
 * Sinks holding a conflated update, per raw socket: one 'drain' listener per socket however many
 * subscriptions it carries (one each would pass EventEmitter's listener limit on a busy socket).
 */
const awaitingDrain = new WeakMap<NodeJS.EventEmitter, Set<Sink>>();

/** Conflation: keep only the newest live-only update; send it once the socket has drained. */
function hold(sink: Sink, enc: EncodedEvent, limits: FanoutLimits) {
  wsCounters.conflated++;
  sink.held = enc;
  if (sink.flushArmed) return;
  const raw = rawSocketOf(sink.conn.ws);
  if (!raw) return;
  sink.flushArmed = true;
  let waiting = awaitingDrain.get(raw);
  if (!waiting) {
    const sinks = (waiting = new Set());
    awaitingDrain.set(raw, sinks);
    // Emitted from the socket's own handling: nothing thrown here may escape.
    raw.once('drain', () => {
      awaitingDrain.delete(raw);
      for (const s of sinks) {
        s.flushArmed = false;
        const held = s.held;
        s.held = null;
        try {
          if (held) deliver(s, held, null, limits);
        } catch (err) {
          limits.failed?.(err);
        }
      }
    });
  }
  waiting.add(sink);
}

// Outside attach(): a closure made there would keep its whole scope (the caught-up events) per subscription.
const detacher = (t: TopicFanout<object>, sink: Sink) => () => t.remove(sink);

/** Every shared topic's fan-out for one server; topics appear with their first sink. */
export class FanoutHub {
  private readonly topics = new Map<string, TopicFanout<object>>();

  readonly limits: FanoutLimits;
  /** Shared by every topic: a write failing on many sockets is one log line a minute. */
  private readonly failed: (err: unknown) => void;

  constructor(
    private readonly bus: EventBus,
    log: Logger,
    limits: FanoutLimits,
    /** The router's output serializer: the fan-out's data frames are encoded as the adapter's. */
    private readonly serialize: Serialize,
  ) {
    this.failed = failureReporter(log, 'fan-out write');
    this.limits = { ...limits, failed: this.failed };
  }

  /**
   * Joins a subscription to `topic`. `caughtUp` are live events its own queue collected while
   * it replayed: those the topic has not dispatched yet are left to the topic, so each event is
   * written once. Synchronous, so nothing is published between the drain and the join.
   */
  attach<P extends object>(opts: {
    topic: Topic<P>;
    toWire: (p: P) => WireEvent;
    conn: FanoutConnection;
    head: string;
    caughtUp: P[];
  }): () => void {
    let t = this.topics.get(opts.topic.name) as TopicFanout<P> | undefined;
    if (!t) {
      t = new TopicFanout(
        this.bus,
        opts.topic,
        opts.toWire,
        this.serialize,
        this.limits,
        () => this.topics.delete(opts.topic.name),
        this.failed,
      );
      this.topics.set(opts.topic.name, t as unknown as TopicFanout<object>);
    }
    const sink: Sink = { conn: opts.conn, head: opts.head, detached: false, held: null, flushArmed: false };
    const pendingInTopic = new Set<object>(t.queued);
    for (const p of opts.caughtUp) {
      if (!pendingInTopic.has(p))
        deliver(sink, encodeEvent(p, opts.toWire as (p: never) => WireEvent, this.serialize), null, this.limits);
    }
    t.add(sink);
    return detacher(t as unknown as TopicFanout<object>, sink);
  }

  stats() {
    let sinks = 0;
    for (const t of this.topics.values()) sinks += t.sinks.size;
    return { topics: this.topics.size, sinks, encodes: encodeCounter.encodes };
  }
}

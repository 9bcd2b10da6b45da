import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { EventBus, Topic } from '../realtime/bus';
import { wsCounters } from './counters';
import { buildFrame, dataMessage, encodeEvent, encodeCounter, envelopeHead, writeFrame, type EncodedEvent, type Frame, type WireEvent } from './frames';

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
    private readonly limits: FanoutLimits,
    private readonly onEmpty: () => void,
  ) {
    this.unsubscribe = bus.subscribe(topic, (p) => {
      this.queued.push(p);
      if (!this.running) void this.run();
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
    this.running = true;
    try {
      while (this.queued.length > 0) {
        const payload = this.queued.shift()!;
        const enc = encodeEvent(payload, this.toWire as (p: never) => WireEvent);
        wsCounters.fanoutEvents++;
        // Sinks attached after this point got this event from their own catch-up queue.
        const sinks = (this.snapshot ??= [...this.sinks]);
        const frames = new Map<string, [Frame, string]>();
        for (let i = 0; i < sinks.length; i++) {
          if (i > 0 && i % this.limits.batch === 0) await yieldToLoop();
          deliver(sinks[i]!, enc, frames, this.limits);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function deliver(sink: Sink, enc: EncodedEvent, frames: Map<string, [Frame, string]> | null, limits: FanoutLimits) {
  const { conn } = sink;
  if (sink.detached || conn.cut || conn.ws.readyState !== 1) return;
  const buffered = conn.ws.bufferedAmount;
  if (buffered > limits.maxBufferedBytes) return conn.cutSlow();
  if (enc.trackedId === null && buffered > limits.conflateBytes) return hold(sink, enc, limits);
  // A stored event supersedes any held live update (a closed candle replaces its forming one).
  sink.held = null;
  let f = frames?.get(sink.head);
  if (!f) {
    const message = dataMessage(sink.head, enc);
    f = [buildFrame(message), message];
    frames?.set(sink.head, f);
  }
  writeFrame(conn.ws, f[0], f[1]);
  wsCounters.messagesSent++;
  wsCounters.bytesSent += f[0][0].length;
}

/** Conflation: keep only the newest live-only update; send it once the socket has drained. */
function hold(sink: Sink, enc: EncodedEvent, limits: FanoutLimits) {
  wsCounters.conflated++;
  sink.held = enc;
  if (sink.flushArmed) return;
  const raw = (sink.conn.ws as unknown as { _socket?: NodeJS.EventEmitter })._socket;
  if (!raw) return;
  sink.flushArmed = true;
  raw.once('drain', () => {
    sink.flushArmed = false;
    const held = sink.held;
    sink.held = null;
    if (held) deliver(sink, held, null, limits);
  });
}

/** Every shared topic's fan-out for one server; topics appear with their first sink. */
export class FanoutHub {
  private readonly topics = new Map<string, TopicFanout<object>>();

  constructor(
    private readonly bus: EventBus,
    readonly limits: FanoutLimits,
  ) {}

  /**
   * Joins a subscription to `topic`. `caughtUp` are live events its own queue collected while
   * it replayed: those the topic has not dispatched yet are left to the topic, so each event is
   * written once. Synchronous, so nothing is published between the drain and the join.
   */
  attach<P extends object>(opts: { topic: Topic<P>; toWire: (p: P) => WireEvent; conn: FanoutConnection; head: string; caughtUp: P[] }): () => void {
    let t = this.topics.get(opts.topic.name) as TopicFanout<P> | undefined;
    if (!t) {
      t = new TopicFanout(this.bus, opts.topic, opts.toWire, this.limits, () => this.topics.delete(opts.topic.name));
      this.topics.set(opts.topic.name, t as unknown as TopicFanout<object>);
    }
    const sink: Sink = { conn: opts.conn, head: opts.head, detached: false, held: null, flushArmed: false };
    const pendingInTopic = new Set<object>(t.queued);
    for (const p of opts.caughtUp) {
      if (!pendingInTopic.has(p)) deliver(sink, encodeEvent(p, opts.toWire as (p: never) => WireEvent), null, this.limits);
    }
    t.add(sink);
    const topic = t;
    return () => topic.remove(sink);
  }

  stats() {
    let sinks = 0;
    for (const t of this.topics.values()) sinks += t.sinks.size;
    return { topics: this.topics.size, sinks, encodes: encodeCounter.encodes };
  }
}

export { envelopeHead };

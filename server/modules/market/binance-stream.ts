import { WebSocket } from 'ws';
import type { Logger } from '../../log';
import { guarded } from '../../guarded';
import { backoff } from '../../backoff';

export interface StreamOptions {
  url: string;
  controlMsgsPerSec: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  maxAgeMs: number;
  idleMs: number;
  /** How long the opening handshake may take before the attempt counts as failed. */
  handshakeTimeoutMs: number;
  log: Logger;
  onFrame: (stream: string, data: unknown) => void;
  /** After every successful (re)connect but the first: the caller backfills the gap. */
  onReconnected: () => void;
}

/** Binance allows 1024 streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;
const MAX_PARAMS_PER_MESSAGE = 200;

/**
 * One combined-stream connection whose stream set changes live through SUBSCRIBE and
 * UNSUBSCRIBE. Control messages are coalesced and paced under Binance's 5 messages/s
 * (pongs count too, so the pace leaves room for them).
 */
export class BinanceStream {
  private ws: WebSocket | null = null;
  private readonly wanted = new Set<string>();
  /** Streams the exchange has been asked for on the current socket. */
  private readonly sent = new Set<string>();
  private readonly pendingReplies = new Map<number, { method: string; params: string[] }>();
  private nextId = 1;
  private attempts = 0;
  private connectedOnce = false;
  private closed = false;
  private lastSendAt = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ageTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: StreamOptions) {}

  /** Every socket event and timer of the connection: a throw is logged, never the end of the process. */
  private safe<A extends unknown[]>(what: string, fn: (...args: A) => unknown) {
    return guarded(this.opts.log, what, fn);
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get size(): number {
    return this.wanted.size;
  }

  streams(): string[] {
    return [...this.wanted];
  }

  add(stream: string) {
    if (this.wanted.has(stream)) return;
    if (this.wanted.size >= MAX_STREAMS_PER_CONNECTION)
      throw new Error(`a Binance connection carries at most ${MAX_STREAMS_PER_CONNECTION} streams`);
    this.wanted.add(stream);
    if (!this.ws && !this.reconnectTimer) this.connect();
    else this.scheduleFlush();
  }

  remove(stream: string) {
    if (!this.wanted.delete(stream)) return;
    this.scheduleFlush();
  }

  close() {
    this.closed = true;
    this.clearTimers();
    this.ws?.terminate();
    this.ws = null;
  }

  private connect() {
    this.reconnectTimer = null;
    if (this.closed) return;
    // autoPong (the ws default, set explicitly): Binance pings every 20 s and cuts us after a minute without a pong.
    const ws = new WebSocket(`${this.opts.url}/stream`, {
      autoPong: true,
      handshakeTimeout: this.opts.handshakeTimeoutMs,
    });
    this.ws = ws;
    ws.on(
      'open',
      this.safe('binance stream open', () => {
        this.attempts = 0;
        this.sent.clear();
        this.pendingReplies.clear();
        this.touch();
        this.ageTimer = setTimeout(
          this.safe('binance planned reconnect', () => this.restart('planned reconnect before the 24 h cut')),
          this.opts.maxAgeMs,
        );
        this.ageTimer.unref();
        this.scheduleFlush();
        if (this.connectedOnce) this.opts.onReconnected();
        this.connectedOnce = true;
      }),
    );
    ws.on(
      'ping',
      this.safe('binance stream ping', () => this.touch()),
    );
    ws.on(
      'message',
      this.safe('binance stream message', (raw: unknown) => {
        this.touch();
        this.onMessage(String(raw));
      }),
    );
    ws.on('error', (err) => this.opts.log.warn({ err: err.message }, 'binance stream error'));
    ws.on(
      'close',
      this.safe('binance stream close', () => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.clearTimers();
        if (this.closed || this.wanted.size === 0) return;
        this.scheduleReconnect();
      }),
    );
  }

  private restart(reason: string) {
    this.opts.log.info({ reason }, 'binance stream reconnecting');
    const ws = this.ws;
    this.ws = null;
    this.clearTimers();
    ws?.terminate();
    if (!this.closed && this.wanted.size > 0) this.connect();
  }

  private scheduleReconnect() {
    // Full jitter on an exponential base: many instances restarting together do not stampede the 300 attempts/5 min limit.
    const base = backoff(++this.attempts, this.opts.reconnectMinMs, this.opts.reconnectMaxMs);
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(
      this.safe('binance reconnect', () => this.connect()),
      delay,
    );
    this.reconnectTimer.unref();
  }

  private touch() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      this.safe('binance idle reconnect', () => this.restart('no traffic from Binance')),
      this.opts.idleMs,
    );
    this.idleTimer.unref();
  }

  private onMessage(text: string) {
    let msg: {
      stream?: string;
      data?: { e?: string };
      id?: number;
      result?: unknown;
      error?: { code: number; msg: string };
    };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    // Valid JSON is not yet a message: `null` or a bare number must not throw in the socket's handler.
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.id === 'number' && this.pendingReplies.has(msg.id)) {
      const req = this.pendingReplies.get(msg.id)!;
      this.pendingReplies.delete(msg.id);
      if (msg.error) {
        this.opts.log.warn({ ...req, error: msg.error }, 'binance refused a control message');
        if (req.method === 'SUBSCRIBE') for (const p of req.params) this.sent.delete(p);
      }
      return;
    }
    if (msg.data?.e === 'serverShutdown') return this.restart('serverShutdown announced');
    if (msg.stream && msg.data) this.opts.onFrame(msg.stream, msg.data);
  }

  private scheduleFlush() {
    if (this.flushTimer || !this.isOpen) return;
    const wait = Math.max(0, this.lastSendAt + 1000 / this.opts.controlMsgsPerSec - Date.now());
    this.flushTimer = setTimeout(
      this.safe('binance subscribe', () => {
        this.flushTimer = null;
        this.flush();
      }),
      wait,
    );
  }

  private flush() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const toAdd = [...this.wanted].filter((s) => !this.sent.has(s));
    const toRemove = [...this.sent].filter((s) => !this.wanted.has(s));
    const [method, params] = toAdd.length ? (['SUBSCRIBE', toAdd] as const) : (['UNSUBSCRIBE', toRemove] as const);
    if (params.length === 0) return;
    const batch = params.slice(0, MAX_PARAMS_PER_MESSAGE);
    const id = this.nextId++;
    this.pendingReplies.set(id, { method, params: batch });
    for (const p of batch) {
      if (method === 'SUBSCRIBE') this.sent.add(p);
      else this.sent.delete(p);
    }
    ws.send(JSON.stringify({ method, params: batch, id }));
    this.lastSendAt = Date.now();
    this.scheduleFlush();
  }

  private clearTimers() {
    for (const t of [this.flushTimer, this.reconnectTimer, this.ageTimer, this.idleTimer]) if (t) clearTimeout(t);
    this.flushTimer = this.reconnectTimer = this.ageTimer = this.idleTimer = null;
  }
}

import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import {
  callProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isTrackedEnvelope,
  parseConnectionParamsFromUnknown,
  transformTRPCResponse,
  type AnyRouter,
} from '@trpc/server/unstable-core-do-not-import';
import type { WebSocket, WebSocketServer } from 'ws';
import { CLOSE_TOO_MANY_CALLS, CLOSE_TOO_MANY_SUBSCRIPTIONS, CLOSE_TOO_SLOW } from './close-codes';
import { wsCounters } from './counters';
import type { FanoutHub } from './fanout';
import { dataMessage, encodeWire, envelopeHead } from './frames';
import { malformed, parseClientMessage, type ClientMessage, type RequestId } from './messages';
import { HANDED_OVER, registerClaim } from './claims';
import { SubscriptionClaim, type ClaimOwner } from './subscription-claim';

type ConnectionParams = Record<string, string> | null;
type ErrorInfo = { error: TRPCError; path?: string; type: string };

export interface WsAdapterOptions<TCtx> {
  wss: WebSocketServer;
  router: AnyRouter;
  hub: FanoutHub;
  createContext(req: IncomingMessage, connectionParams: ConnectionParams): Promise<TCtx>;
  onError(info: ErrorInfo): void;
  /** A limit was hit or a frame was refused: told once per connection, as a warning. */
  onAbuse(info: { reason: string; ip: string | undefined }): void;
  onSlowClient(): void;
  onConnection(open: boolean): void;
  clientAddress(req: IncomingMessage): string;
  keepAlive: { pingMs: number; pongWaitMs: number };
  limits: { maxBufferedBytes: number; callsPerSecond: number; maxSubscriptions: number };
}

/**
 * tRPC v11's WebSocket protocol, unchanged on the wire, served by our own handler so shared
 * topics can be written once per event to every socket (docs/decisions/007-own-ws-adapter.md).
 */
export function attachWsAdapter<TCtx>(opts: WsAdapterOptions<TCtx>) {
  const connections = new Set<Connection<TCtx>>();
  opts.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const conn = new Connection(ws, req, opts);
    connections.add(conn);
    opts.onConnection(true);
    ws.once('close', () => {
      connections.delete(conn);
      conn.closed();
      opts.onConnection(false);
    });
  });
  // One sweep for every connection instead of two timers each, reset on every message.
  const { pingMs, pongWaitMs } = opts.keepAlive;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of connections) c.keepAlive(now, pingMs, pongWaitMs);
  }, Math.max(50, Math.min(pingMs, pongWaitMs) / 4));
  sweep.unref();
  return {
    broadcastReconnectNotification() {
      const data = JSON.stringify({ id: null, method: 'reconnect' });
      for (const c of connections) if (c.ws.readyState === 1) c.ws.send(data);
    },
    close() {
      clearInterval(sweep);
    },
  };
}

class Connection<TCtx> implements ClaimOwner {
  cut = false;
  private readonly subs = new Map<RequestId, AbortController>();
  private ctxPromise: Promise<{ ok: true } | { ok: false; error: TRPCError }> | null;
  private ctx: TCtx | undefined;
  private lastSeen = Date.now();
  private pingSentAt = 0;
  private tokens: number;
  private tokensAt = Date.now();
  // Needed only until the context exists: an idle connection should not hold its upgrade request.
  private req: IncomingMessage | null;
  private readonly ip: string | undefined;

  constructor(
    readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly o: WsAdapterOptions<TCtx>,
  ) {
    this.req = req;
    this.ip = o.clientAddress(req);
    this.tokens = o.limits.callsPerSecond;
    const wantsParams = new URL(req.url ?? '/', 'http://local').searchParams.get('connectionParams') === '1';
    this.ctxPromise = wantsParams ? null : this.createCtx(null);
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // Oversized frames and protocol errors from a peer: one line, no stack; ws closes the socket.
      this.o.onAbuse({ reason: err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame over the size limit' : `WebSocket protocol error (${err.code ?? err.message})`, ip: this.ip });
    });
  }

  keepAlive(now: number, pingMs: number, pongWaitMs: number) {
    if (this.ws.readyState !== 1) return;
    if (this.pingSentAt) {
      if (now - this.pingSentAt > pongWaitMs) this.ws.terminate();
    } else if (now - this.lastSeen > pingMs) {
      this.pingSentAt = now;
      this.ws.send('PING');
    }
  }

  closed() {
    for (const ac of this.subs.values()) ac.abort();
    this.subs.clear();
  }

  /** Sends unless the peer has stopped reading; past the bound it is cut, to resume later. */
  send(message: string) {
    if (this.cut || this.ws.readyState !== 1) return;
    if (this.ws.bufferedAmount > this.o.limits.maxBufferedBytes) return this.cutSlow();
    this.ws.send(message);
    wsCounters.messagesSent++;
    wsCounters.bytesSent += message.length;
  }

  cutSlow() {
    if (this.cut) return;
    this.o.onSlowClient();
    wsCounters.slowDisconnects++;
    this.closeWith(CLOSE_TOO_SLOW, 'client too slow: reconnect and resume from your last event id');
  }

  private closeWith(code: number, reason: string) {
    this.cut = true;
    this.ws.close(code, reason);
    // close() waits behind the backlog; terminate if the peer still is not reading.
    setTimeout(() => this.ws.terminate(), 5_000).unref();
  }

  private abuse(code: number, reason: string) {
    if (this.cut) return;
    wsCounters.limitDisconnects++;
    this.o.onAbuse({ reason, ip: this.ip });
    this.closeWith(code, reason);
  }

  private respond(response: object) {
    this.send(JSON.stringify(transformTRPCResponse(this.o.router._def._config, response as never)));
  }

  private respondError(id: RequestId | null, jsonrpc: '2.0' | undefined, error: TRPCError, type: string, path?: string, input?: unknown) {
    this.o.onError({ error, path, type });
    const shape = getErrorShape({ config: this.o.router._def._config, error, type: type as never, path, input, ctx: this.ctx });
    this.respond({ id, jsonrpc, error: shape });
  }

  private createCtx(params: () => ConnectionParams): Promise<{ ok: true } | { ok: false; error: TRPCError }>;
  private createCtx(params: null): Promise<{ ok: true } | { ok: false; error: TRPCError }>;
  private async createCtx(params: (() => ConnectionParams) | null) {
    try {
      this.ctx = await this.o.createContext(this.req!, params ? params() : null);
      return { ok: true as const };
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      this.respondError(null, undefined, error, 'unknown');
      setImmediate(() => this.ws.close());
      return { ok: false as const, error };
    } finally {
      this.req = null;
    }
  }

  private onMessage(raw: Buffer, isBinary: boolean) {
    this.lastSeen = Date.now();
    this.pingSentAt = 0;
    const text = isBinary ? null : raw.toString('utf8');
    if (text === 'PONG') return;
    if (text === 'PING') return this.ws.send('PONG');
    if (!this.ctxPromise) {
      this.ctxPromise = this.createCtx(() => {
        const msg = text === null ? null : safeJson(text);
        if (!isObject(msg)) throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage' });
        return parseConnectionParamsFromUnknown(msg.data) as ConnectionParams;
      });
      return;
    }
    const parsed = text === null ? undefined : safeJson(text);
    if (parsed === undefined) return this.respondError(null, undefined, malformed('not JSON'), 'unknown');
    const items = Array.isArray(parsed) ? parsed : [parsed];
    if (!this.take(items.length)) return this.abuse(CLOSE_TOO_MANY_CALLS, `more than ${this.o.limits.callsPerSecond} calls per second`);
    items.forEach((item, index) => {
      const r = parseClientMessage(item, (input) => this.o.router._def._config.transformer.input.deserialize(input));
      if (r.ok) this.handle(r.msg, index);
      else this.respondError(r.id, r.jsonrpc, r.error, 'unknown');
    });
  }

  /** Token bucket: `callsPerSecond` sustained, the same again as a burst. */
  private take(n: number): boolean {
    const now = Date.now();
    const rate = this.o.limits.callsPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    this.tokens -= n;
    return this.tokens >= -rate;
  }

  private handle(msg: ClientMessage, batchIndex: number) {
    const { id, jsonrpc } = msg;
    if (msg.method === 'subscription.stop') {
      this.subs.get(id)?.abort();
      return;
    }
    const { path, lastEventId } = msg.params;
    let { input } = msg.params;
    const type = msg.method;
    if (lastEventId !== undefined) {
      if (isObject(input)) input = { ...input, lastEventId };
      else input ??= { lastEventId };
    }
    if (type === 'subscription') {
      if (this.subs.has(id)) return this.respondError(id, jsonrpc, new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }), type, path, input);
      if (this.subs.size >= this.o.limits.maxSubscriptions) {
        return this.abuse(CLOSE_TOO_MANY_SUBSCRIPTIONS, `more than ${this.o.limits.maxSubscriptions} open subscriptions`);
      }
    }
    const ac = new AbortController();
    // Reserved now so a stop that arrives while the procedure is starting still finds it.
    if (type === 'subscription') this.subs.set(id, ac);
    void this.call({ id, jsonrpc, type, path, input, batchIndex, ac });
  }

  private async call(c: { id: RequestId; jsonrpc: '2.0' | undefined; type: 'query' | 'mutation' | 'subscription'; path: string; input: unknown; batchIndex: number; ac: AbortController }) {
    const { id, jsonrpc, type, path, input, ac } = c;
    try {
      const ready = await this.ctxPromise!;
      if (!ready.ok) throw ready.error;
      const claim = type === 'subscription' ? new SubscriptionClaim(this.o.hub, this, envelopeHead(id, jsonrpc), id, jsonrpc, path, ac) : null;
      if (claim) registerClaim(ac.signal, claim);
      const result: unknown = await callProcedure({ router: this.o.router, path, getRawInput: async () => input, ctx: this.ctx, type, signal: ac.signal, batchIndex: c.batchIndex });
      if (type !== 'subscription') {
        if (isAsyncIterable(result)) throw new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `Cannot return an async iterable from a ${type} procedure with WebSockets` });
        return this.respond({ id, jsonrpc, result: { type: 'data', data: result } });
      }
      if (!isAsyncIterable(result)) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Subscription ${path} did not return an AsyncGenerator` });
      if (ac.signal.aborted || this.ws.readyState !== 1) {
        void result[Symbol.asyncIterator]().return?.(undefined)?.catch(() => {});
        return;
      }
      this.respond({ id, jsonrpc, result: { type: 'started' } });
      await this.iterate(c, claim!, result);
    } catch (cause) {
      if (type === 'subscription') this.subs.delete(id);
      this.respondError(id, jsonrpc, getTRPCErrorFromUnknown(cause), type, path, input);
    }
  }

  /**
   * The generator path: replays, per-user streams. Shared topics leave it once caught up: the
   * stream yields HANDED_OVER (transport/claims.ts), we stop reading and let the whole generator
   * chain return; the claim then stands for the subscription until it ends.
   */
  private async iterate(c: { id: RequestId; jsonrpc: '2.0' | undefined; path: string; input: unknown; ac: AbortController }, claim: SubscriptionClaim, iterable: AsyncIterable<unknown>) {
    const { id, jsonrpc, ac } = c;
    const head = claim.head;
    const it = iterable[Symbol.asyncIterator]();
    let wake: (() => void) | null = null;
    const onAbort = () => wake?.();
    ac.signal.addEventListener('abort', onAbort, { once: true });
    let error: TRPCError | null = null;
    try {
      for (;;) {
        // A fresh stop promise per wait: nothing accumulates on a long-lived one.
        const stop = new Promise<null>((resolve) => (wake = () => resolve(null)));
        const next = ac.signal.aborted ? null : await Promise.race([it.next(), stop]);
        wake = null;
        if (next === null || (!next.done && next.value === HANDED_OVER)) {
          // Not awaited: a resolver blocked in a wait that ignores its signal would hold us here.
          it.return?.(undefined).catch(() => {});
          break;
        }
        if (next.done) break;
        const value = next.value;
        const enc = isTrackedEnvelope(value) ? encodeWire(value[0], value[1]) : encodeWire(null, value);
        this.send(dataMessage(head, enc));
      }
    } catch (cause) {
      error = getTRPCErrorFromUnknown(cause);
    } finally {
      ac.signal.removeEventListener('abort', onAbort);
    }
    // Handed over: the claim answers when the subscription really ends (an error now ends it).
    if (claim.handedOver) {
      if (error) claim.end(error);
      return;
    }
    if (this.subs.get(id) === ac) this.subs.delete(id);
    if (error) this.respondError(id, jsonrpc, error, 'subscription', c.path, c.input);
    this.respond({ id, jsonrpc, result: { type: 'stopped' } });
  }

  handedOverEnded(claim: SubscriptionClaim, error: TRPCError | null, cleanupFailure: unknown) {
    if (this.subs.get(claim.id) === claim.ac) this.subs.delete(claim.id);
    if (cleanupFailure) this.o.onError({ error: getTRPCErrorFromUnknown(cleanupFailure), path: claim.path, type: 'subscription' });
    if (error) this.respondError(claim.id, claim.jsonrpc, error, 'subscription', claim.path);
    this.respond({ id: claim.id, jsonrpc: claim.jsonrpc, result: { type: 'stopped' } });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

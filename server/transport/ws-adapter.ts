import type { IncomingMessage } from 'node:http';
import {
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  transformTRPCResponse,
  TRPCError,
} from '@trpc/server';
import { parseConnectionParamsFromUnknown } from '@trpc/server/http';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { WebSocket } from 'ws';
import { CallRate } from './call-rate';
import { CLOSE_TOO_MANY_CALLS, CLOSE_TOO_MANY_SUBSCRIPTIONS, CLOSE_TOO_SLOW } from './close-codes';
import { wsCounters } from './counters';
import { envelopeHead, type Serialize } from './frames';
import { corkForTurn, isAsyncIterable, isObject, routerConfig, type RouterConfig } from './internals';
import { startKeepAliveSweep } from './keep-alive';
import { parseClientMessage, parseFrame, parseJson, type ClientMessage, type RequestId } from './messages';
import { registerClaim } from '../realtime/handover';
import { SubscriptionClaim, type ClaimOwner } from './subscription-claim';
import { toTRPCError } from '../errors';
import { failureReporter, guarded } from '../guarded';
import { requestUrl } from './request-url';
import { pumpSubscription } from './subscription-pump';
import type { ConnectionParams, Failures, WsAdapterOptions } from './ws-adapter-options';

export type { WsAdapterOptions } from './ws-adapter-options';

/**
 * tRPC v11's WebSocket protocol, unchanged on the wire, served by our own handler so shared
 * topics can be written once per event to every socket (docs/decisions/007-own-ws-adapter.md).
 */
export function attachWsAdapter<TCtx>(opts: WsAdapterOptions<TCtx>) {
  const connections = new Set<Connection<TCtx>>();
  // Shared by every connection, so a failure repeating on many sockets is one line a minute.
  const failed: Failures = {
    message: failureReporter(opts.log, 'WebSocket message'),
    call: failureReporter(opts.log, 'WebSocket call'),
  };
  // Every callback below runs from ws's socket handling or a timer: one that throws must not end the process.
  const onClose = guarded(opts.log, 'WebSocket close', (conn: Connection<TCtx>) => {
    connections.delete(conn);
    conn.closed();
    opts.onConnection(false);
  });
  opts.wss.on(
    'connection',
    guarded(opts.log, 'WebSocket connection', (ws: WebSocket, req: IncomingMessage) => {
      const conn = new Connection(ws, req, opts, failed);
      connections.add(conn);
      opts.onConnection(true);
      ws.once('close', () => onClose(conn));
    }),
  );
  const stopKeepAlive = startKeepAliveSweep(connections, opts.keepAlive, opts.log);
  return {
    broadcastReconnectNotification() {
      const data = JSON.stringify({ id: null, method: 'reconnect' });
      for (const c of connections) if (c.ws.readyState === 1) c.ws.send(data);
    },
    close() {
      stopKeepAlive();
    },
  };
}

class Connection<TCtx> implements ClaimOwner {
  cut = false;
  private readonly subs = new Map<RequestId, AbortController>();
  /** The subscriptions holding a slot of the subscriber's count, released once each. */
  private readonly counted = new Set<AbortController>();
  private subscriber: string | null = null;
  private ctxPromise: Promise<{ ok: true } | { ok: false; error: TRPCError }> | null;
  private ctx: TCtx | undefined;
  private lastSeen = Date.now();
  private pingSentAt = 0;
  private readonly rate: CallRate;
  private readonly config: RouterConfig;
  private readonly serialize: Serialize;
  // Needed only until the context exists: an idle connection should not hold its upgrade request.
  private req: IncomingMessage | null;
  private readonly ip: string | undefined;

  constructor(
    readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly o: WsAdapterOptions<TCtx>,
    private readonly failed: Failures,
  ) {
    this.req = req;
    this.ip = o.clientAddress(req);
    this.rate = new CallRate(o.limits.callsPerSecond);
    this.config = routerConfig(o.router);
    this.serialize = this.config.transformer.output.serialize;
    const wantsParams = requestUrl(req)?.searchParams.get('connectionParams') === '1';
    this.ctxPromise = wantsParams ? null : this.createCtx(null);
    // Emitted from ws's socket handling: a throw here would end the process.
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data as Buffer, isBinary);
      } catch (err) {
        this.failed.message(err);
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // Oversized frames and protocol errors from a peer: one line, no stack; ws closes the socket.
      try {
        this.o.onAbuse({
          reason:
            err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
              ? 'frame over the size limit'
              : `WebSocket protocol error (${err.code ?? err.message})`,
          ip: this.ip,
        });
      } catch (e) {
        this.failed.message(e);
      }
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
    // Generator-path subscriptions end later, asynchronously: their slots are freed here, now.
    this.counted.forEach(() => this.o.userSubscriptions.release(this.subscriber!));
    this.counted.clear();
  }

  /**
   * Takes the subscriber's slot before the procedure runs: after the context is ready the
   * check and the count are one synchronous step, so a frame of subscriptions cannot pass it
   * together. Past the cap only this subscription is refused.
   */
  private countSubscription(ac: AbortController) {
    this.subscriber ??= this.o.subscriberKey(this.ctx!);
    const counts = this.o.userSubscriptions;
    if (!counts.tryTake(this.subscriber)) {
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `Too many open subscriptions for one account (at most ${counts.max}): close some tabs or views, then try again.`,
      });
    }
    this.counted.add(ac);
  }

  /** The subscription has ended, whatever ended it: forget it and free its slot. */
  private forget(id: RequestId, ac: AbortController) {
    if (this.subs.get(id) === ac) this.subs.delete(id);
    if (this.counted.delete(ac)) this.o.userSubscriptions.release(this.subscriber!);
  }

  /** Sends unless the peer has stopped reading; past the bound it is cut, to resume later. */
  send(message: string) {
    if (this.cut || this.ws.readyState !== 1) return;
    if (this.ws.bufferedAmount > this.o.limits.maxBufferedBytes) return this.cutSlow();
    corkForTurn(this.ws);
    this.ws.send(message);
    wsCounters.messagesSent++;
    wsCounters.bytesSent += message.length;
  }

  cutSlow() {
    if (this.cut) return;
    this.o.onSlowClient();
    this.closeWith(CLOSE_TOO_SLOW, 'client too slow: reconnect and resume from your last event id');
  }

  private closeWith(code: number, reason: string) {
    this.cut = true;
    this.ws.close(code, reason);
    // close() waits behind the backlog; terminate if the peer still is not reading.
    setTimeout(() => void this.terminate(), 5_000).unref();
  }

  /** From a timer: ws throws on close() of a socket in some states, and nothing may escape a timer. */
  private terminate(gracefully = false) {
    try {
      if (gracefully) this.ws.close();
      else this.ws.terminate();
    } catch (err) {
      this.failed.message(err);
    }
  }

  private abuse(code: number, reason: string) {
    if (this.cut) return;
    wsCounters.limitDisconnects++;
    this.o.onAbuse({ reason, ip: this.ip });
    this.closeWith(code, reason);
  }

  private respond(response: object) {
    this.send(JSON.stringify(transformTRPCResponse(this.config, response as never)));
  }

  private respondError(
    id: RequestId | null,
    jsonrpc: '2.0' | undefined,
    error: TRPCError,
    type: string,
    path?: string,
    input?: unknown,
  ) {
    this.o.onError({ error, path, type });
    const shape = getErrorShape({ config: this.config, error, type: type as never, path, input, ctx: this.ctx });
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
      setImmediate(() => void this.terminate(true));
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
        const msg = text === null ? null : parseJson(text);
        if (!isObject(msg))
          throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage' });
        return parseConnectionParamsFromUnknown(msg.data) as ConnectionParams;
      });
      return;
    }
    const items = parseFrame(text);
    if (items instanceof TRPCError) return this.respondError(null, undefined, items, 'unknown');
    if (!this.rate.take(items.length))
      return this.abuse(CLOSE_TOO_MANY_CALLS, `more than ${this.o.limits.callsPerSecond} calls per second`);
    items.forEach((item, index) => {
      const r = parseClientMessage(item, (input) => this.config.transformer.input.deserialize(input));
      if (r.ok) this.handle(r.msg, index);
      else this.respondError(r.id, r.jsonrpc, r.error, 'unknown');
    });
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
      if (this.subs.has(id))
        return this.respondError(
          id,
          jsonrpc,
          new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }),
          type,
          path,
          input,
        );
      if (this.subs.size >= this.o.limits.maxSubscriptions) {
        return this.abuse(
          CLOSE_TOO_MANY_SUBSCRIPTIONS,
          `more than ${this.o.limits.maxSubscriptions} open subscriptions`,
        );
      }
    }
    const ac = new AbortController();
    // Reserved now so a stop that arrives while the procedure is starting still finds it.
    if (type === 'subscription') this.subs.set(id, ac);
    // Not awaited: its failure to even answer (the error path threw too) is reported, never left unhandled.
    this.call({ id, jsonrpc, type, path, input, batchIndex, ac }).catch(this.failed.call);
  }

  private async call(c: {
    id: RequestId;
    jsonrpc: '2.0' | undefined;
    type: 'query' | 'mutation' | 'subscription';
    path: string;
    input: unknown;
    batchIndex: number;
    ac: AbortController;
  }) {
    const { id, jsonrpc, type, path, input, ac } = c;
    try {
      const ready = await this.ctxPromise!;
      if (!ready.ok) throw ready.error;
      // Stopped (in the same frame, say) or closed while the context was made: never started.
      if (type === 'subscription' && ac.signal.aborted) return this.stoppedUnstarted(id, jsonrpc, ac);
      if (type === 'subscription') this.countSubscription(ac);
      const claim =
        type === 'subscription'
          ? new SubscriptionClaim(this.o.hub, this, envelopeHead(id, jsonrpc), id, jsonrpc, path, ac)
          : null;
      if (claim) registerClaim(ac.signal, claim);
      const result: unknown = await callTRPCProcedure({
        router: this.o.router,
        path,
        getRawInput: async () => input,
        ctx: this.ctx,
        type,
        signal: ac.signal,
        batchIndex: c.batchIndex,
      });
      if (type !== 'subscription') {
        if (isAsyncIterable(result) || isObservable(result)) {
          throw new TRPCError({
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets`,
          });
        }
        return this.respond({ id, jsonrpc, result: { type: 'data', data: result } });
      }
      // tRPC serves both: an observable is read as an iterator that ends with the request's signal.
      const iterable = isObservable(result) ? observableToAsyncIterable(result, ac.signal) : result;
      if (!isAsyncIterable(iterable))
        throw new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
        });
      if (ac.signal.aborted || this.ws.readyState !== 1) {
        void iterable[Symbol.asyncIterator]()
          .return?.(undefined)
          ?.catch(() => {});
        return this.stoppedUnstarted(id, jsonrpc, ac);
      }
      this.respond({ id, jsonrpc, result: { type: 'started' } });
      await this.iterate(c, claim!, iterable);
    } catch (cause) {
      if (type === 'subscription') this.forget(id, ac);
      this.respondError(id, jsonrpc, toTRPCError(getTRPCErrorFromUnknown(cause)), type, path, input);
    }
  }

  /** A subscription stopped before it started still gets `stopped`: the client's stop is answered (nothing goes to a closed socket). */
  private stoppedUnstarted(id: RequestId, jsonrpc: '2.0' | undefined, ac: AbortController) {
    this.forget(id, ac);
    this.respond({ id, jsonrpc, result: { type: 'stopped' } });
  }

  /**
   * The generator path: replays, per-user streams. Shared topics leave it once caught up: the
   * stream joins the fan-out through its claim (realtime/handover.ts), we stop reading and let the
   * whole generator chain return; the claim then stands for the subscription until it ends.
   */
  private async iterate(
    c: { id: RequestId; jsonrpc: '2.0' | undefined; path: string; input: unknown; ac: AbortController },
    claim: SubscriptionClaim,
    iterable: AsyncIterable<unknown>,
  ) {
    const { id, jsonrpc, ac } = c;
    const error = await pumpSubscription(iterable, { signal: ac.signal, claim, serialize: this.serialize, conn: this });
    // Handed over: the claim answers when the subscription really ends (an error now ends it).
    if (claim.handedOver) {
      if (error) claim.end(error);
      return;
    }
    this.forget(id, ac);
    if (error) this.respondError(id, jsonrpc, error, 'subscription', c.path, c.input);
    this.respond({ id, jsonrpc, result: { type: 'stopped' } });
  }

  handedOverEnded(claim: SubscriptionClaim, error: TRPCError | null, cleanupFailure: unknown) {
    this.forget(claim.id, claim.ac);
    if (cleanupFailure)
      this.o.onError({ error: getTRPCErrorFromUnknown(cleanupFailure), path: claim.path, type: 'subscription' });
    if (error) this.respondError(claim.id, claim.jsonrpc, error, 'subscription', claim.path);
    this.respond({ id: claim.id, jsonrpc: claim.jsonrpc, result: { type: 'stopped' } });
  }
}

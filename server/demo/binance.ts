import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { INTERVAL_MS, PriceBook, type FakeKline } from './binance-prices';
import type { FakeUpstream } from './index';
import { applyFault, FailureQueue, type Fault } from './serve';
import { DEFAULT_SYMBOLS, symbolInfo } from './binance-symbols';

export interface FakeBinanceOptions {
  /** Exchange clock at start (ms). Defaults to now. */
  start?: number;
  /** Wall-clock ticks advancing the exchange clock by tickMs × timeScale; 0 = driven by advance(). */
  tickMs?: number;
  timeScale?: number;
  pingIntervalMs?: number;
  /** Binance cuts every connection after 24 h; tests shorten it. */
  maxConnectionMs?: number;
  /** Symbols exchangeInfo lists as TRADING (and klines answer); DEFAULT_SYMBOLS when absent. */
  symbols?: string[];
}

interface Conn {
  ws: WebSocket;
  streams: Set<string>;
  sentThisSecond: number;
  second: number;
  unansweredPings: number;
}

const STREAM = /^([a-z0-9]+)@kline_([0-9]+[mhd])$/;
const MAX_STREAMS = 1024;
const MAX_INCOMING_PER_SECOND = 5;

const klineFields = (k: FakeKline, symbol: string, interval: string, closed: boolean) => ({
  t: k.openTime,
  T: k.closeTime,
  s: symbol,
  i: interval,
  f: 0,
  L: k.trades - 1,
  o: String(k.open),
  c: String(k.close),
  h: String(k.high),
  l: String(k.low),
  v: String(k.volume),
  n: k.trades,
  x: closed,
  q: String(k.volume * k.close),
  V: '0',
  Q: '0',
  B: '0',
});

/**
 * A loopback Binance speaking the combined-stream kline protocol and REST klines, with a
 * clock tests drive (advance) and failures on demand (outage, dropConnections).
 */
export class FakeBinance {
  readonly counters = {
    connectionsOpened: 0,
    refused: 0,
    subscribeMessages: 0,
    controlMessages: 0,
    restRequests: 0,
    exchangeInfoRequests: 0,
    rateLimitKicks: 0,
    pings: 0,
    pongs: 0,
    pongTimeouts: 0,
  };
  now: number;
  private readonly conns = new Set<Conn>();
  private readonly prices: PriceBook;
  private down = false;
  private restFault: Fault | null = null;
  /** Slow: upgrades are answered only after this long, and open streams fall silent. */
  private streamDelayMs = 0;
  private readonly restFailures = new FailureQueue();
  private timers: NodeJS.Timeout[] = [];
  /** symbol → status ('TRADING', or 'BREAK' for one listed but halted). */
  private readonly listed = new Map<string, string>();
  private wsUrlValue = '';
  private restUrlValue = '';

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly opts: FakeBinanceOptions,
  ) {
    this.now = opts.start ?? Date.now();
    this.prices = new PriceBook(this.now);
    this.listSymbols(opts.symbols ?? DEFAULT_SYMBOLS);
  }

  /** Lists more symbols (tests that need many distinct ones); `status` other than TRADING lists them halted. */
  listSymbols(symbols: Iterable<string>, status = 'TRADING') {
    for (const s of symbols) this.listed.set(s, status);
  }

  static async start(opts: FakeBinanceOptions = {}): Promise<FakeBinance> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const fake = new FakeBinance(http, wss, opts);
    http.on('request', (req, res) => void fake.rest(req, res));
    http.on('upgrade', async (req, socket, head) => {
      if (fake.streamDelayMs) await new Promise((r) => setTimeout(r, fake.streamDelayMs).unref());
      if (socket.destroyed) return;
      if (fake.down || !req.url?.startsWith('/stream')) {
        fake.counters.refused++;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => fake.accept(ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    fake.wsUrlValue = `ws://127.0.0.1:${port}`;
    fake.restUrlValue = `http://127.0.0.1:${port}`;
    fake.timers.push(setInterval(() => fake.ping(), opts.pingIntervalMs ?? 20_000));
    if (opts.tickMs)
      fake.timers.push(setInterval(() => fake.advance(opts.tickMs! * (opts.timeScale ?? 1)), opts.tickMs));
    for (const t of fake.timers) t.unref();
    return fake;
  }

  get env() {
    return { BINANCE_WS_URL: this.wsUrlValue, BINANCE_REST_URL: this.restUrlValue };
  }

  get openConnections(): number {
    return this.conns.size;
  }

  /** Streams subscribed right now, over all connections. */
  subscriptions(): string[] {
    return [...this.conns].flatMap((c) => [...c.streams]).sort();
  }

  /** The final candle as the exchange knows it (for tests to compare with). */
  candle(symbol: string, interval: string, openTime: number): FakeKline | null {
    return this.prices.candle(symbol, interval, openTime);
  }

  /** The forming candle as it stands now (its close is the current price). */
  forming(symbol: string, interval: string): FakeKline {
    return this.prices.forming(symbol, interval, this.now);
  }

  /**
   * Moves the exchange clock: every candle that closes on the way is pushed with x:true,
   * then the forming candle's current state. During an outage nothing is pushed.
   */
  advance(ms: number) {
    const from = this.now;
    this.now += ms;
    for (const c of this.conns) {
      for (const stream of c.streams) {
        const [, lower, interval] = STREAM.exec(stream)!;
        const symbol = lower!.toUpperCase();
        const tf = INTERVAL_MS[interval!]!;
        for (let t = Math.floor(from / tf) * tf; t + tf <= this.now; t += tf) {
          const k = this.prices.candle(symbol, interval!, t);
          if (k) this.push(c, stream, k, symbol, interval!, true);
        }
        this.push(c, stream, this.prices.forming(symbol, interval!, this.now), symbol, interval!, false);
      }
    }
  }

  /** The next `count` REST requests answer `status` (429 and 418 carry Retry-After). */
  failRestNext(status: number, count = 1, opts: { retryAfterSeconds?: number } = {}) {
    this.restFailures.add(status, count, opts);
  }

  /** REST requests misbehave this way until `faultRest(null)` (see Fault). */
  faultRest(f: Fault | null) {
    this.restFault = f;
  }

  /**
   * A stalled exchange: open streams go silent (advance() pushes nothing) and new connections
   * get their upgrade answered only after `delayMs`; 0 ends it.
   */
  slowStreams(delayMs: number) {
    this.streamDelayMs = delayMs;
  }

  /** Sends `text` as one frame on every open connection, as is (tests send malformed frames). */
  sendRaw(text: string) {
    for (const c of this.conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  /** Drops every connection and refuses new ones until restore(). */
  outage() {
    this.down = true;
    this.dropConnections();
  }

  restore() {
    this.down = false;
  }

  dropConnections() {
    for (const c of this.conns) c.ws.terminate();
  }

  async close() {
    for (const t of this.timers) clearInterval(t);
    this.dropConnections();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private push(c: Conn, stream: string, k: FakeKline, symbol: string, interval: string, closed: boolean) {
    if (c.ws.readyState !== WebSocket.OPEN || this.streamDelayMs) return;
    c.ws.send(
      JSON.stringify({
        stream,
        data: { e: 'kline', E: this.now, s: symbol, k: klineFields(k, symbol, interval, closed) },
      }),
    );
  }

  private accept(ws: WebSocket, req: IncomingMessage) {
    this.counters.connectionsOpened++;
    const conn: Conn = { ws, streams: new Set(), sentThisSecond: 0, second: 0, unansweredPings: 0 };
    const initial = new URL(req.url!, 'http://x').searchParams.get('streams');
    for (const s of initial?.split('/') ?? []) if (STREAM.test(s)) conn.streams.add(s);
    this.conns.add(conn);
    const life = setTimeout(
      () => ws.close(1000, 'connection lifetime exceeded'),
      this.opts.maxConnectionMs ?? 24 * 3_600_000,
    );
    life.unref();
    ws.on('close', () => {
      clearTimeout(life);
      this.conns.delete(conn);
    });
    ws.on('error', () => {});
    ws.on('pong', () => {
      this.counters.pongs++;
      conn.unansweredPings = 0;
      this.countIncoming(conn);
    });
    ws.on('message', (raw) => {
      if (!this.countIncoming(conn)) return;
      this.control(conn, String(raw));
    });
  }

  /** Binance disconnects a connection sending more than 5 messages a second (pongs included). */
  private countIncoming(c: Conn): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== c.second) {
      c.second = second;
      c.sentThisSecond = 0;
    }
    if (++c.sentThisSecond > MAX_INCOMING_PER_SECOND) {
      this.counters.rateLimitKicks++;
      c.ws.close(1008, 'Too many requests');
      return false;
    }
    return true;
  }

  private control(c: Conn, text: string) {
    this.counters.controlMessages++;
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return c.ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }));
    }
    const id = msg.id ?? null;
    const params = Array.isArray(msg.params) ? msg.params.map(String) : [];
    const reply = (body: object) => c.ws.send(JSON.stringify({ ...body, id }));
    if (msg.method === 'LIST_SUBSCRIPTIONS') return reply({ result: [...c.streams] });
    if (msg.method !== 'SUBSCRIBE' && msg.method !== 'UNSUBSCRIBE')
      return reply({ error: { code: 2, msg: `Invalid request: unknown method ${String(msg.method)}` } });
    const bad = params.find((p) => !STREAM.test(p) || !INTERVAL_MS[STREAM.exec(p)![2]!]);
    if (bad) return reply({ error: { code: 2, msg: `Invalid request: invalid stream name ${bad}` } });
    if (msg.method === 'SUBSCRIBE') {
      this.counters.subscribeMessages++;
      if (new Set([...c.streams, ...params]).size > MAX_STREAMS)
        return reply({ error: { code: 2, msg: 'Invalid request: too many streams' } });
      for (const p of params) c.streams.add(p);
    } else for (const p of params) c.streams.delete(p);
    reply({ result: null });
  }

  /** Binance drops a connection that leaves its pings unanswered (here: three in a row). */
  private ping() {
    // A stalled exchange sends nothing at all, pings included.
    if (this.streamDelayMs) return;
    for (const c of this.conns) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.unansweredPings >= 3) {
        this.counters.pongTimeouts++;
        c.ws.terminate();
        continue;
      }
      c.unansweredPings++;
      this.counters.pings++;
      c.ws.ping(String(this.now));
    }
  }

  private async rest(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    // Counted apart: tests compare kline calls before and after, whenever the symbol list loads.
    if (url.pathname === '/api/v3/exchangeInfo') this.counters.exchangeInfoRequests++;
    else this.counters.restRequests++;
    if (await applyFault(this.restFault, res)) return;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-mbx-used-weight-1m': String(this.counters.restRequests * 2),
      });
      res.end(JSON.stringify(body));
    };
    const fail = this.restFailures.take(url.pathname);
    if (fail) {
      const headers = fail.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fail.retryAfterSeconds) };
      res.writeHead(fail.status, { 'content-type': 'application/json', ...headers });
      return res.end(JSON.stringify({ code: fail.status === 418 ? -1003 : -1015, msg: 'Too many requests.' }));
    }
    if (url.pathname === '/api/v3/exchangeInfo') {
      const symbols = [...this.listed].map(([symbol, status]) => symbolInfo(symbol, status));
      return send(200, { timezone: 'UTC', serverTime: this.now, rateLimits: [], exchangeFilters: [], symbols });
    }
    if (url.pathname !== '/api/v3/klines') return send(404, { code: -1000, msg: 'Unknown path.' });
    const symbol = url.searchParams.get('symbol') ?? '';
    const interval = url.searchParams.get('interval') ?? '';
    if (!this.listed.has(symbol)) return send(400, { code: -1121, msg: 'Invalid symbol.' });
    const tf = INTERVAL_MS[interval];
    if (!tf) return send(400, { code: -1120, msg: 'Invalid interval.' });
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 500) || 500, 1000);
    const current = Math.floor(this.now / tf) * tf;
    const endParam = url.searchParams.get('endTime');
    const end = Math.min(current, endParam ? Math.floor(Number(endParam) / tf) * tf : current);
    const startParam = url.searchParams.get('startTime');
    let first = startParam ? Math.ceil(Number(startParam) / tf) * tf : end - (limit - 1) * tf;
    first = Math.max(first, this.prices.firstOpenTime(symbol, interval));
    const rows: unknown[] = [];
    for (let t = first; t <= end && rows.length < limit; t += tf) {
      const k =
        t === current ? this.prices.forming(symbol, interval, this.now) : this.prices.candle(symbol, interval, t)!;
      rows.push([
        k.openTime,
        String(k.open),
        String(k.high),
        String(k.low),
        String(k.close),
        String(k.volume),
        k.closeTime,
        String(k.volume * k.close),
        k.trades,
        '0',
        '0',
        '0',
      ]);
    }
    send(200, rows);
  }
}

/** `npm run demo`: a real-time exchange clock. */
export async function startFakeBinance(): Promise<FakeUpstream> {
  const fake = await FakeBinance.start({ tickMs: 1000 });
  return { env: fake.env, close: () => fake.close() };
}

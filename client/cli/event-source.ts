/**
 * An EventSource for Node 20 (which has none) on fetch, for tRPC's httpSubscriptionLink: the
 * WHATWG parsing and reconnect rules, plus what a browser's EventSource cannot do, request
 * headers (`Authorization: Bearer`, so a script authenticates as over plain HTTP).
 * https://html.spec.whatwg.org/multipage/server-sent-events.html
 */

export interface NodeEventSourceInit {
  headers?: Record<string, string>;
  /**
   * Told of a failure the source will not retry: a refusal (not 200, not an event stream), or,
   * when given, a first connection that fails (the CLI reports the server unreachable rather
   * than retrying). tRPC's own error for a closed source says nothing: its cause is lost.
   */
  onFailure?: (err: Error) => void;
}

type Listener = (event: SourceEvent) => void;
interface SourceEvent {
  type: string;
  data?: string;
  lastEventId?: string;
}

/** Error events are Errors, so tRPC's client error keeps the network cause (ECONNREFUSED) in its chain. */
class SourceError extends Error {
  readonly type = 'error';
}

const DEFAULT_RETRY_MS = 1_000;
/** An answer that is not an event stream is read this far, for its message. */
const MAX_REFUSAL_BYTES = 4_096;

export class NodeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSED = 2;
  readyState = 0;
  private lastEventId = '';
  private retryMs = DEFAULT_RETRY_MS;
  private opened = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ac = new AbortController();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    readonly url: string,
    private readonly init: NodeEventSourceInit = {},
  ) {
    void this.connect();
  }

  addEventListener(type: string, listener: Listener) {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener) {
    this.listeners.get(type)?.delete(listener);
  }

  close() {
    this.readyState = this.CLOSED;
    clearTimeout(this.timer);
    this.ac.abort();
  }

  private emit(event: SourceEvent) {
    for (const l of [...(this.listeners.get(event.type) ?? [])]) l(event);
  }

  private fail(message: string, cause?: unknown) {
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    this.ac.abort();
    const err = new SourceError(message, { cause });
    this.init.onFailure?.(err);
    this.emit(err);
  }

  private async connect() {
    let res: Response;
    try {
      res = await fetch(this.url, {
        headers: {
          Accept: 'text/event-stream',
          ...this.init.headers,
          ...(this.lastEventId ? { 'Last-Event-ID': this.lastEventId } : {}),
        },
        signal: this.ac.signal,
      });
    } catch (err) {
      if (this.readyState === this.CLOSED) return;
      if (!this.opened && this.init.onFailure) return this.fail('no event-stream connection', err);
      return this.reconnect(err);
    }
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      // The spec's rule: a refusal (429 at a cap, a proxy's error page) is final, not retried.
      const text = await startOf(res.body);
      return this.fail(`the server refused the event stream (HTTP ${res.status}${text ? `: ${text}` : ''})`);
    }
    this.opened = true;
    this.readyState = this.OPEN;
    this.emit({ type: 'open' });
    try {
      await this.read(res.body!);
    } catch (err) {
      if (this.readyState === this.CLOSED) return;
      return this.reconnect(err);
    }
    // The server ended the stream (a restart, a cut): reconnect and resume from the last id.
    if (this.readyState !== this.CLOSED) this.reconnect(new Error('the event stream ended'));
  }

  private reconnect(cause: unknown) {
    this.readyState = this.CONNECTING;
    this.emit(new SourceError('event-stream connection lost: reconnecting', { cause }));
    if (this.readyState !== this.CONNECTING) return;
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    let type = '';
    const line = (text: string) => {
      if (text === '') {
        // A blank line dispatches what the fields gathered; an event with no data line is none.
        if (data.length > 0)
          this.emit({ type: type || 'message', data: data.join('\n'), lastEventId: this.lastEventId });
        data = [];
        type = '';
        return;
      }
      if (text.startsWith(':')) return;
      const colon = text.indexOf(':');
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? '' : text.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    };
    const reader = body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.readyState === this.CLOSED) return;
      buffer += decoder.decode(value, { stream: true });
      // Lines end in CRLF, LF or CR; a CR last in the chunk may be the first half of a CRLF.
      for (let m = /\r\n|\n|\r(?!$)/.exec(buffer); m; m = /\r\n|\n|\r(?!$)/.exec(buffer)) {
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
        if (this.readyState === this.CLOSED) return;
      }
    }
  }
}

/** The first bytes of a refusal's body, for its message; the rest is not waited for. */
async function startOf(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < MAX_REFUSAL_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body cut off midway still has its start.
  } finally {
    void reader.cancel().catch(() => {});
  }
  return text.slice(0, MAX_REFUSAL_BYTES).trim();
}

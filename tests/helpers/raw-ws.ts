import WebSocket from 'ws';
import superjson from 'superjson';
import { isResumePoint, isResumePointMessage } from '../../shared/system';
import { afterThis } from './cleanup';

/** What a server frame parses to (tRPC v11 response, or PING/reconnect). */
export type ServerMessage =
  | {
      id: string | number | null;
      jsonrpc?: string;
      method?: string;
      result?: { type?: string; id?: string; data?: unknown };
      error?: unknown;
    }
  | 'PING';

/**
 * A WebSocket speaking tRPC's wire protocol by hand: for what the typed client hides
 * (close codes, raw frames, a client that stops reading, malformed messages).
 */
export class RawTrpcSocket {
  readonly messages: ServerMessage[] = [];
  closeCode: number | null = null;
  closeReason = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.messages.push(text === 'PING' ? 'PING' : (JSON.parse(text) as ServerMessage));
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on('error', () => {});
    afterThis(() => ws.terminate());
  }

  static async open(baseUrl: string, token?: string): Promise<RawTrpcSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ method: 'connectionParams', data: token ? { token } : {} }));
    return new RawTrpcSocket(ws);
  }

  send(msg: unknown) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  subscribe(id: number, path: string, input: unknown, lastEventId?: string) {
    this.send({
      id,
      method: 'subscription',
      params: { path, input: superjson.serialize(input), ...(lastEventId ? { lastEventId } : {}) },
    });
  }

  /** Data results of request `id`, decoded, with their tracked ids; a resumable stream's resume point is left out. */
  data(id: number): { id?: string; data: unknown }[] {
    return this.messages.flatMap((m) => {
      if (
        m === 'PING' ||
        m.id !== id ||
        m.result === undefined ||
        (m.result.type !== 'data' && m.result.type !== undefined)
      )
        return [];
      const data: unknown = superjson.deserialize(m.result.data as never);
      // A tracked result carries { id, data } on the wire.
      return isResumePoint(data) || isResumePointMessage(data) ? [] : [{ id: m.result.id, data }];
    });
  }

  pause() {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resume() {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }
}

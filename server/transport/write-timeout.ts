import type { ServerResponse } from 'node:http';

const isEventStream = (res: ServerResponse) => String(res.getHeader('content-type')).startsWith('text/event-stream');

/**
 * An HTTP answer must be taken by the client within `ms` of its first byte being written
 * (HTTP_WRITE_TIMEOUT_MS). A client that stops reading would otherwise keep the whole unsent
 * answer in our memory for as long as it keeps the connection open. The clock starts at the
 * head, not at the request, so a procedure that takes long to compute is not cut; Node's
 * `requestTimeout` and `headersTimeout` already bound a request that arrives slowly.
 * A subscription's event stream has no end to wait for: `onEventStream` gets it instead, to
 * bound it per write (transport/sse.ts). WebSocket upgrades have no ServerResponse and keep
 * their own guard (WS_MAX_BUFFERED_BYTES).
 */
export function limitWriteTime(res: ServerResponse, ms: number, onCut: () => void, onEventStream?: () => void): void {
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  const writeHead = res.writeHead;
  // write() and end() send the head through this.writeHead too, so every answer starts the clock here.
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    if (!started) {
      started = true;
      if (onEventStream && isEventStream(res)) onEventStream();
      else
        timer = setTimeout(() => {
          onCut();
          res.destroy();
        }, ms).unref();
    }
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  // 'finish': everything was handed to the operating system; 'close': done, or the client left.
  const stop = () => clearTimeout(timer);
  res.once('finish', stop);
  res.once('close', stop);
}

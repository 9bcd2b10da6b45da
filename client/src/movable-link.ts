import type { TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/router';
import { transport } from './transport';

/** As tRPC's links resume: the input with the last tracked id seen (an object input only). */
function withLastEventId(input: unknown, lastEventId: string | undefined) {
  if (!lastEventId || (input != null && typeof input !== 'object')) return input;
  return { ...(input ?? {}), lastEventId };
}

/** An SSE stream that failed to connect at all (a proxy's error page) is tried again after 1 s, 2 s … 10 s. */
const retryDelayMs = (attempt: number) => Math.min(1_000 * 2 ** attempt, 10_000);

/**
 * Subscriptions that outlive a change of transport (transport.ts): when the app falls back to
 * server-sent events, or goes back to the WebSocket, each open subscription is stopped on the
 * old one and started on the new one from the last tracked id it delivered, so the stream
 * resumes there (nothing missed, nothing twice). Over SSE a stream that cannot connect at all is
 * retried, as the WebSocket client retries its socket; errors the server sent pass on.
 */
export const movableLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) => {
      let lastEventId: string | undefined;
      let attempt = 0;
      let failures = 0;
      let inner: Unsubscribable | null = null;
      let retry: ReturnType<typeof setTimeout> | undefined;
      const start = () => {
        const mine = ++attempt;
        const on = transport.current();
        inner = next({ ...op, input: withLastEventId(op.input, lastEventId) }).subscribe({
          next(envelope) {
            // A stopped attempt's teardown may still call back: only the current one speaks.
            if (mine !== attempt) return;
            const { result } = envelope;
            if (result.type === 'state') {
              if (on === 'sse') transport.sseState(op.id, result.state);
              if (result.state === 'pending') failures = 0;
            } else if ((!result.type || result.type === 'data') && result.id) lastEventId = result.id;
            observer.next(envelope);
          },
          error(err) {
            if (mine !== attempt) return;
            if (on === 'sse' && !err.data && transport.current() === 'sse') {
              transport.sseState(op.id, 'connecting');
              retry = setTimeout(start, retryDelayMs(failures++));
              return;
            }
            observer.error(err);
          },
          complete() {
            if (mine === attempt) observer.complete();
          },
        });
      };
      const move = () => {
        clearTimeout(retry);
        const old = inner;
        attempt++;
        old?.unsubscribe();
        transport.sseState(op.id, null);
        start();
      };
      const stopMoving = op.type === 'subscription' ? transport.onChange(move) : () => {};
      start();
      return () => {
        stopMoving();
        clearTimeout(retry);
        attempt++;
        inner?.unsubscribe();
        transport.sseState(op.id, null);
      };
    });

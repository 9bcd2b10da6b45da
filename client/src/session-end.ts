import type { TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/router';

// Every tab of this browser hears a sign-out at once, before the server's signal reaches it.
const CHANNEL = 'hubcast-session';
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);

let leaving = false;
/**
 * The session is over: a full load of `/` drops every cached query and the WebSocket opened with
 * the old cookie, and shows the sign-in page (or the app, if another tab signed in meanwhile).
 */
export function leaveSession() {
  if (leaving) return;
  leaving = true;
  window.location.assign('/');
}

channel?.addEventListener('message', (e: MessageEvent) => {
  if (e.data === 'signed-out') leaveSession();
});

/** Called by the tab that signed out: tells this browser's other tabs, then leaves. */
export function signedOutHere() {
  channel?.postMessage('signed-out');
  leaveSession();
}

/**
 * The server's signal, which also reaches tabs in other browsers on the same session: it ends a
 * signed-out session's subscriptions with UNAUTHORIZED. Subscriptions only: a refused sign-in
 * (a query or mutation) is UNAUTHORIZED too, and is the sign-in page's to explain.
 */
export const sessionEndLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) =>
      next(op).subscribe({
        next: (value) => observer.next(value),
        error: (err) => {
          if (op.type === 'subscription' && err.data?.code === 'UNAUTHORIZED') leaveSession();
          observer.error(err);
        },
        complete: () => observer.complete(),
      }),
    );

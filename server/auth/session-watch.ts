import { TRPCError } from '@trpc/server';
import type { EventBus } from '../realtime/bus';
import { topic } from '../realtime/bus';
import type { Session } from './session';

export const sessionsRevoked = topic<{ sessionIds: string[] }>('auth:sessions_revoked');

export interface SessionWatch {
  /** Aborts when the session is revoked or expires. */
  signal: AbortSignal;
  isValid(): boolean;
  error(): TRPCError;
  stop(): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Tracks sessions that have open subscriptions so sign-out and expiry can end them. */
export class SessionWatcher {
  private readonly open = new Map<string, Set<AbortController>>();
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly currentExpiry: (sessionId: string) => Promise<Date | null>,
  ) {
    this.unsubscribe = bus.subscribe(sessionsRevoked, ({ sessionIds }) => {
      for (const id of sessionIds) for (const ac of this.open.get(id) ?? []) ac.abort();
    });
  }

  watch(session: Session): SessionWatch {
    const ac = new AbortController();
    let set = this.open.get(session.id);
    if (!set) this.open.set(session.id, (set = new Set()));
    set.add(ac);
    let expiresAt = session.expiresAt.getTime();
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(async () => {
        // Sliding expiry may have moved the end since this connection was opened.
        const current = await this.currentExpiry(session.id).catch(() => null);
        if (current && current.getTime() > Date.now()) {
          expiresAt = current.getTime();
          schedule();
        } else ac.abort();
      }, Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS));
      timer.unref();
    };
    schedule();
    const stop = () => {
      clearTimeout(timer);
      set.delete(ac);
      if (set.size === 0) this.open.delete(session.id);
    };
    return {
      signal: ac.signal,
      isValid: () => !ac.signal.aborted && Date.now() < expiresAt,
      error: () => new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session ended (signed out or expired): sign in again.' }),
      stop,
    };
  }

  close() {
    this.unsubscribe();
    for (const set of this.open.values()) for (const ac of set) ac.abort();
    this.open.clear();
  }
}

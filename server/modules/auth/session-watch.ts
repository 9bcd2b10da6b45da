import { isDatabaseUnavailable } from '../../db/unavailable';
import { AppError } from '../../errors';
import type { EventBus } from '../../realtime/bus';
import type { SessionWatch } from '../../realtime/guard';
import { topic } from '../../realtime/bus';
import type { Session } from './session';

export const sessionsRevoked = topic<{ sessionIds: string[] }>('auth:sessions_revoked');

const MAX_TIMER_MS = 2 ** 31 - 1;
const EXPIRY_RECHECK_MS = 5_000;

/** Tracks sessions that have open subscriptions so sign-out and expiry can end them. */
export class SessionWatcher {
  private readonly open = new Map<string, Set<Watch>>();
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly currentExpiry: (sessionId: string) => Promise<Date | null>,
    /** Where a failure in a bus handler or expiry timer goes (they run outside any request). */
    readonly failed: (err: unknown) => void = () => {},
  ) {
    this.unsubscribe = bus.subscribe(sessionsRevoked, ({ sessionIds }) => {
      // One watch failing to end must not leave the session's other subscriptions open.
      for (const id of sessionIds) for (const w of [...(this.open.get(id) ?? [])]) this.end(w);
    });
  }

  /** @internal */
  end(w: Watch) {
    try {
      w.revoke();
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * `also` (the request's own signal) aborts the watch too, so the watch's signal is the one a
   * resolver waits on: no AbortSignal.any per subscription. `isValid` stays true for that abort.
   */
  watch(session: Session, also?: AbortSignal): SessionWatch {
    let set = this.open.get(session.id);
    if (!set) this.open.set(session.id, (set = new Set()));
    const w = new Watch(this, session.id, session.expiresAt.getTime(), set, also);
    set.add(w);
    return w;
  }

  /**
   * @internal Sliding expiry may have moved the end since the connection was opened. Null when
   * the session is gone; `undefined` when the database could not say (it is away): ask again later.
   */
  async expiryOf(sessionId: string): Promise<number | null | undefined> {
    try {
      const current = await this.currentExpiry(sessionId);
      return current ? current.getTime() : null;
    } catch (err) {
      if (isDatabaseUnavailable(err)) return undefined;
      throw err;
    }
  }

  /** @internal */
  forget(sessionId: string, set: Set<Watch>, w: Watch) {
    set.delete(w);
    if (set.size === 0 && this.open.get(sessionId) === set) this.open.delete(sessionId);
  }

  close() {
    this.unsubscribe();
    for (const set of this.open.values()) for (const w of [...set]) this.end(w);
    this.open.clear();
  }
}

/**
 * One subscription's watch. A class, not an object of closures: every open subscription keeps
 * one, and per-instance closures cost several times the fields they hold.
 */
class Watch implements SessionWatch {
  private ac: AbortController | null = new AbortController();
  private target: { endWith(error: AppError): void } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private revoked = false;

  constructor(
    private readonly watcher: SessionWatcher,
    private readonly sessionId: string,
    private expiresAt: number,
    private readonly set: Set<Watch>,
    private readonly also: AbortSignal | undefined,
  ) {
    // The watch itself is the listener (handleEvent): no closure per subscription.
    if (also?.aborted) this.ac!.abort();
    else also?.addEventListener('abort', this, { once: true });
    this.schedule();
  }

  get signal() {
    if (!this.ac) throw new Error('the watch was handed off');
    return this.ac.signal;
  }

  /** The request's own signal aborted: the stream ends, the session is still fine. */
  handleEvent() {
    this.ac?.abort();
  }

  handOff(target: { endWith(error: AppError): void }) {
    this.also?.removeEventListener('abort', this);
    const aborted = this.ac?.signal.aborted;
    this.ac = null;
    this.target = target;
    if (aborted && !this.isValid()) target.endWith(this.error());
  }

  /** Signed out, revoked or expired. */
  revoke() {
    this.revoked = true;
    if (this.target) this.target.endWith(this.error());
    else this.ac?.abort();
  }

  private schedule(delayMs = this.expiresAt - Date.now()) {
    this.timer = setTimeout(
      () => void this.checkExpiry().catch(this.watcher.failed),
      Math.min(Math.max(delayMs, 0), MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  private async checkExpiry() {
    const current = await this.watcher.expiryOf(this.sessionId);
    // A database outage at the moment of expiry signs nobody out: it is asked again shortly.
    if (current === undefined) this.schedule(EXPIRY_RECHECK_MS);
    else if (current && current > Date.now()) {
      this.expiresAt = current;
      this.schedule();
    } else this.revoke();
  }

  isValid() {
    return !this.revoked && Date.now() < this.expiresAt;
  }

  error() {
    return new AppError('UNAUTHORIZED', 'Your session ended (signed out or expired): sign in again.');
  }

  stop() {
    clearTimeout(this.timer);
    this.also?.removeEventListener('abort', this);
    this.watcher.forget(this.sessionId, this.set, this);
  }
}

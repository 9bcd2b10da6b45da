import { TRPCError } from '@trpc/server';
import { RateLimiterMemory, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';

// Per target account, whoever asks and from wherever: five wrong passwords in a row are free,
// then each further one locks the account's password sign-in for twice as long as the last
// (30 s, 1 min, 2 min … at most 15 min). A success clears the count. Google sign-in and
// existing sessions are unaffected, so a locked-out owner still has a way in.
const FREE_FAILURES = 5;
const FIRST_LOCK_SECONDS = 30;
const MAX_LOCK_SECONDS = 15 * 60;

export class SignInLockout {
  // Counts failures; the count is forgotten an hour after the first of them.
  private readonly failures: RateLimiterAbstract;
  // Only ever blocked, never consumed: a blocked key reports how long the lock lasts.
  private readonly locks: RateLimiterAbstract;

  /** `limiter` makes the counters: shared by every instance in a cluster (server/cluster/limits.ts). */
  constructor(limiter: (o: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract = (o) => new RateLimiterMemory(o)) {
    this.failures = limiter({ keyPrefix: 'signin-failures', points: 10_000, duration: 3600 });
    this.locks = limiter({ keyPrefix: 'signin-lock', points: 1, duration: 1 });
  }

  /** Throws TOO_MANY_REQUESTS while the account is locked. */
  async check(account: string): Promise<void> {
    const lock: RateLimiterRes | null = await this.locks.get(account);
    if (lock && lock.consumedPoints > 1 && lock.msBeforeNext > 0) {
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `Too many wrong passwords for this account: try again in ${Math.ceil(lock.msBeforeNext / 1000)} s.`,
      });
    }
  }

  async failed(account: string): Promise<void> {
    const res = await this.failures.penalty(account, 1);
    const over = res.consumedPoints - FREE_FAILURES;
    if (over > 0) await this.locks.block(account, Math.min(FIRST_LOCK_SECONDS * 2 ** (over - 1), MAX_LOCK_SECONDS));
  }

  async succeeded(account: string): Promise<void> {
    await this.failures.delete(account);
  }
}

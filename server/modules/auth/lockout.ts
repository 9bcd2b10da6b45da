import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { take } from '../../cluster/take';
import { backoff } from '../../backoff';
import { AppError } from '../../errors';

// Per target account, whoever asks and from wherever: five password checks in a row are free;
// the next attempt is refused and locks the account's password sign-in for 30 s. After each lock
// one attempt is checked, and it starts the next lock at once, twice as long as the last (1 min,
// 2 min … at most 15 min). A right password clears it all. Google sign-in and existing sessions
// are unaffected, so a locked-out owner still has a way in.
const FREE_ATTEMPTS = 5;
const FIRST_LOCK_SECONDS = 30;
const MAX_LOCK_SECONDS = 15 * 60;
const lockSeconds = (level: number) => backoff(level, FIRST_LOCK_SECONDS, MAX_LOCK_SECONDS);

type MakeLimiter = (o: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export class SignInLockout {
  // Every attempt is counted before its password is checked, so concurrent guesses cannot all
  // pass a check that only the finished ones had counted. Forgotten an hour after the first.
  private readonly attempts: RateLimiterAbstract;
  // One point per lock period: whoever takes it is the one attempt let through after a lock.
  private readonly gate: RateLimiterAbstract;
  // How many locks have started since the last success: sets the next lock's length.
  private readonly level: RateLimiterAbstract;

  /** `limiter` makes the counters: shared by every instance in a cluster (server/cluster/limits.ts). */
  constructor(limiter: MakeLimiter = (o) => new RateLimiterMemory(o)) {
    this.attempts = limiter({ keyPrefix: 'signin-attempts', points: 1_000_000, duration: 3600 });
    this.gate = limiter({ keyPrefix: 'signin-gate', points: 1, duration: FIRST_LOCK_SECONDS });
    this.level = limiter({ keyPrefix: 'signin-lock-level', points: 1_000_000, duration: 24 * 3600 });
  }

  /**
   * Runs `check` (the password hash) only if this attempt is within the account's allowance;
   * throws TOO_MANY_REQUESTS otherwise. `isWrong` tells a wrong password from other failures.
   */
  async attempt<T>(account: string, check: () => Promise<T>, isWrong: (err: unknown) => boolean): Promise<T> {
    const counted = await take(this.attempts, account);
    if (!counted.ok) throw locked(counted.waitSeconds);
    if (counted.consumed > FREE_ATTEMPTS) await this.pastFreeAttempts(account);
    let result: T;
    try {
      result = await check();
    } catch (err) {
      // Anything but a wrong password (a database outage) does not count against the owner.
      if (!isWrong(err)) await this.attempts.reward(account, 1).catch(() => {});
      throw err;
    }
    await Promise.all([this.attempts.delete(account), this.gate.delete(account), this.level.delete(account)]);
    return result;
  }

  /** Returns if this attempt is the one let through after a lock; throws otherwise. */
  private async pastFreeAttempts(account: string): Promise<void> {
    // Losers of the race for the gate may read a stale level: only the winner's matters.
    const levelNow = (await this.level.get(account))?.consumedPoints ?? 0;
    const gate = await take(this.gate, account, { seconds: lockSeconds(levelNow + 1) });
    if (!gate.ok) throw locked(gate.waitSeconds);
    await this.level.penalty(account, 1);
    // The first attempt past the free ones starts the first lock and is not checked.
    if (levelNow === 0) throw locked(lockSeconds(1));
  }
}

function locked(waitSeconds: number) {
  return new AppError('TOO_MANY_REQUESTS', `Too many wrong passwords for this account: try again in ${waitSeconds} s.`);
}

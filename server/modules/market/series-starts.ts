import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** How long a charged start covers its series for everyone, while it is being set up. */
const COVER_MS = 60_000;

/**
 * The per-user hourly budget for starting series this instance does not keep yet. Starting one
 * series is charged once: callers that ask for it while its start is charged or being set up
 * (a page opening several views of a new symbol, many viewers at once) wait for that charge and
 * are not charged again. A refused charge covers nobody, so the next caller pays for itself.
 */
export class SeriesStarts {
  /** Series key → its charge, in the order charged (entries older than COVER_MS are dropped as new ones come). */
  private readonly charged = new Map<string, { at: number; charge: Promise<unknown> }>();

  constructor(private readonly budget: RateLimiterAbstract) {}

  async charge(userId: string, series: string): Promise<void> {
    const now = Date.now();
    this.forgetBefore(now - COVER_MS);
    const covering = this.charged.get(series);
    if (covering) {
      const covered = await covering.charge.then(
        () => true,
        () => false,
      );
      if (covered) return;
    }
    const charge = this.budget.consume(userId);
    this.charged.set(series, { at: now, charge });
    try {
      await charge;
    } catch (err) {
      if (this.charged.get(series)?.charge === charge) this.charged.delete(series);
      throw err;
    }
  }

  private forgetBefore(t: number) {
    for (const [series, c] of this.charged) {
      if (c.at >= t) break;
      this.charged.delete(series);
    }
  }
}

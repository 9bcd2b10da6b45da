/** A connection's token bucket: `perSecond` calls sustained, the same again as a burst. */
export class CallRate {
  private tokens: number;
  private at = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** Takes `n` calls; false once the connection is past its burst. */
  take(n: number): boolean {
    const now = Date.now();
    const rate = this.perSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.at) / 1000) * rate);
    this.at = now;
    this.tokens -= n;
    return this.tokens >= -rate;
  }
}

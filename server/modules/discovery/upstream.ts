import pRetry, { AbortError } from 'p-retry';
import pThrottle from 'p-throttle';

/** A failed upstream call. `status` null means no HTTP answer (network error or timeout). */
export class UpstreamError extends Error {
  constructor(
    readonly service: string,
    readonly status: number | null,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  get transient(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  timeoutMs: number;
  /** Longest Retry-After we are willing to sit out inside one scan. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 3, minTimeoutMs: 500, timeoutMs: 10_000, maxRetryAfterMs: 30_000 };

/** A call budget (requests per minute) shared by every request that names it. */
export function limiter(perMinute: number) {
  const throttle = pThrottle({ limit: perMinute, interval: 60_000 });
  return throttle(<T>(fn: () => Promise<T>) => fn()) as <T>(fn: () => Promise<T>) => Promise<T>;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * One JSON request with a timeout per attempt, the service's rate budget per attempt, and
 * retries with backoff for transient failures (5xx, 429 after its Retry-After, network).
 * `check` may throw an UpstreamError for errors reported inside a 200 body.
 */
export async function requestJson<T>(opts: {
  service: string;
  url: string;
  init?: RequestInit;
  budget: <R>(fn: () => Promise<R>) => Promise<R>;
  policy: RetryPolicy;
  check?: (body: T) => void;
}): Promise<T> {
  const { service, policy } = opts;
  const attempt = async () => {
    let res: Response;
    try {
      res = await opts.budget(() => fetch(opts.url, { ...opts.init, signal: AbortSignal.timeout(policy.timeoutMs) }));
    } catch (err) {
      const what = err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${policy.timeoutMs} ms` : 'unreachable';
      throw new UpstreamError(service, null, `${service} ${what}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new UpstreamError(service, res.status, `${service} error ${res.status}`, retryAfterMs(res.headers.get('retry-after')));
    }
    let body: T;
    try {
      body = (await res.json()) as T;
    } catch {
      throw new UpstreamError(service, 502, `${service} sent a response that is not JSON`);
    }
    opts.check?.(body);
    return body;
  };
  return pRetry(
    async () => {
      try {
        return await attempt();
      } catch (err) {
        if (err instanceof UpstreamError && !err.transient) throw new AbortError(err);
        throw err;
      }
    },
    {
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      randomize: true,
      onFailedAttempt: async ({ error, retriesLeft }) => {
        // A 429 names its own wait; sitting it out beats burning the remaining retries.
        const wait = error instanceof UpstreamError ? error.retryAfterMs : undefined;
        if (retriesLeft > 0 && wait !== undefined) await new Promise((r) => setTimeout(r, Math.min(wait, policy.maxRetryAfterMs)));
      },
    },
  ).catch((err: unknown) => {
    // p-retry's AbortError wraps ours; callers want the UpstreamError itself.
    if (err instanceof AbortError && err.originalError instanceof UpstreamError) throw err.originalError;
    throw err;
  });
}

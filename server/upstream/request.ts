import pRetry, { AbortError } from 'p-retry';
import { retryAfterMs, UpstreamError } from './error';
import type { Budget, RetryPolicy } from './policy';

export interface RequestOptions<T> {
  service: string;
  url: string | URL;
  init?: RequestInit;
  budget: Budget;
  policy: RetryPolicy;
  /** May throw an UpstreamError for errors reported inside a 200 body. */
  check?: (body: T) => void;
  /** Statuses that mean "slow down": their Retry-After is sat out, then the call is retried. */
  rateLimitStatuses?: readonly number[];
  /**
   * Reads a failed answer's JSON body; an error returned here ends the call at once (an
   * upstream's "no such symbol" is not worth a retry). Undefined keeps the default handling.
   */
  errorBody?: (status: number, body: unknown) => Error | undefined;
}

/**
 * One JSON request with a timeout per attempt, the service's rate budget per attempt, and
 * retries with backoff for transient failures (5xx, 429 after its Retry-After, network).
 */
export async function requestJson<T>(opts: RequestOptions<T>): Promise<T> {
  const { service, policy } = opts;
  const rateLimits = opts.rateLimitStatuses ?? [429];
  const attempt = async () => {
    let res: Response;
    try {
      res = await opts.budget(() => fetch(opts.url, { ...opts.init, signal: AbortSignal.timeout(policy.timeoutMs) }));
    } catch (err) {
      const what =
        err instanceof Error && err.name === 'TimeoutError' ? `timed out after ${policy.timeoutMs} ms` : 'unreachable';
      throw new UpstreamError(service, null, `${service} ${what}`);
    }
    if (!res.ok) throw await failure(opts, res, rateLimits.includes(res.status));
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
        if (err instanceof UpstreamError && !err.transient && !rateLimits.includes(err.status ?? 0))
          throw new AbortError(err);
        throw err;
      }
    },
    {
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      ...(policy.maxTimeoutMs === undefined ? {} : { maxTimeout: policy.maxTimeoutMs }),
      randomize: true,
      onFailedAttempt: async ({ error, retriesLeft }) => {
        // A 429 names its own wait; sitting it out beats burning the remaining retries.
        const wait = error instanceof UpstreamError ? error.retryAfterMs : undefined;
        if (retriesLeft > 0 && wait !== undefined)
          await new Promise((r) => setTimeout(r, Math.min(wait, policy.maxRetryAfterMs)));
      },
    },
  ).catch((err: unknown) => {
    // p-retry's AbortError wraps ours; callers want the original error itself.
    if (err instanceof AbortError && err.originalError) throw err.originalError;
    throw err;
  });
}

/** The error for a non-2xx answer: a final one (AbortError) or one the retry loop may retry. */
async function failure<T>(opts: RequestOptions<T>, res: Response, rateLimited: boolean): Promise<Error> {
  const { service, policy } = opts;
  let body: unknown;
  if (opts.errorBody) body = await res.json().catch(() => undefined);
  else await res.body?.cancel();
  const own = opts.errorBody?.(res.status, body);
  if (own) return new AbortError(own);
  const wait = retryAfterMs(res.headers.get('retry-after'));
  if (rateLimited && wait !== undefined && wait > policy.maxRetryAfterMs && policy.failOnLongRetryAfter) {
    return new AbortError(
      new UpstreamError(service, res.status, `${service} rate limit: retry after ${Math.ceil(wait / 1000)} s`, wait),
    );
  }
  return new UpstreamError(service, res.status, `${service} error ${res.status}`, wait);
}

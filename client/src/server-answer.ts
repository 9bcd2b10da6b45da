import { TRPCClientError } from '@trpc/client';

/**
 * Whether the server answered (an error with a tRPC code: a refusal to show), as opposed to no
 * answer at all (offline, a socket cut mid-flight, a timeout, a proxy's page): worth trying again.
 */
export const serverAnswered = (err: unknown): err is TRPCClientError<never> =>
  err instanceof TRPCClientError && typeof err.data?.code === 'string';

import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';
import type { AppRouter } from '../../server/router';

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

/** The TRPCError a createCaller call rejected with (fails the test if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<TRPCError> {
  const err = await caught(p);
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

/** The same for a call through a real client over HTTP or WebSocket. */
export async function clientError(p: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const err = await caught(p);
  expect(err).toBeInstanceOf(TRPCClientError);
  return err as TRPCClientError<AppRouter>;
}

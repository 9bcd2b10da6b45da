/**
 * Ported from tRPC's own suite: packages/tests/server/websockets.encoder.test.ts (github.com/trpc/trpc,
 * tag v11.18.0, unchanged up to the 11.22.1 we pin), with our adapter in place of `applyWSSHandler`.
 *
 * Only the JSON cases apply: our adapter speaks JSON text frames and has no `experimental_encoder`
 * (the fan-out writes one prebuilt text frame to every socket). Left out, see
 * docs/decisions/007-own-ws-adapter.md: the 'binary encoder' cases, 'PING/PONG with binary encoder',
 * 'broadcastReconnectNotification works with binary encoder', 'parse errors are handled with
 * binary encoder', 'connection params work with binary encoder', and 'encoder interface'
 * (tRPC's jsonEncoder alone, no server).
 */
import { EventEmitter } from 'node:events';
import { wsLink } from '@trpc/client';
import { initTRPC, tracked } from '@trpc/server';
import { jsonEncoder, type Encoder } from '@trpc/server/adapters/ws';
import type { Observer } from '@trpc/server/observable';
import { observable } from '@trpc/server/observable';
import { createDeferred } from '@trpc/server/unstable-core-do-not-import';
import { describe, expect, test, vi } from 'vitest';
import { z } from 'zod';
import { eventually, testServerAndClientResource } from './client';

type Message = {
  id: string;
  title?: string;
};

function factory(config?: { clientEncoder?: Encoder }) {
  const ee = new EventEmitter();
  const subRef: { current: Observer<Message, unknown> } = {} as any;
  const onNewMessageSubscription = vi.fn();
  const subscriptionEnded = vi.fn();

  const t = initTRPC.create();

  let iterableDeferred = createDeferred();
  const nextIterable = () => {
    iterableDeferred.resolve();
    iterableDeferred = createDeferred();
  };

  const appRouter = t.router({
    greeting: t.procedure.input(z.string().nullish()).query(({ input }) => {
      return `hello ${input ?? 'world'}`;
    }),
    echo: t.procedure
      .input(
        z.object({
          message: z.string(),
        }),
      )
      .mutation(({ input }) => {
        return { received: input.message };
      }),
    iterable: t.procedure
      .input(
        z
          .object({
            lastEventId: z.coerce.number().nullish(),
          })
          .nullish(),
      )
      .subscription(async function* (opts) {
        let from = opts?.input?.lastEventId ?? 0;

        while (true) {
          from++;
          await iterableDeferred.promise;
          const msg: Message = {
            id: String(from),
            title: 'hello ' + from,
          };

          yield tracked(String(from), msg);
        }
      }),
    onMessage: t.procedure.input(z.string().nullish()).subscription(() => {
      const sub = observable<Message>((emit) => {
        subRef.current = emit;
        const onMessage = (data: Message) => {
          emit.next(data);
        };
        ee.on('server:msg', onMessage);
        return () => {
          subscriptionEnded();
          ee.off('server:msg', onMessage);
        };
      });
      ee.emit('subscription:created');
      onNewMessageSubscription();
      return sub;
    }),
  });

  const onOpenMock = vi.fn();
  const onCloseMock = vi.fn();

  const opts = testServerAndClientResource(appRouter, {
    wsClient: {
      lazy: {
        enabled: false,
        closeMs: 0,
      },
      retryDelayMs: () => 50,
      onOpen: onOpenMock,
      onClose: onCloseMock,
      experimental_encoder: config?.clientEncoder,
    },
    client({ wsClient }) {
      return {
        links: [wsLink({ client: wsClient })],
      };
    },
    wssServer: {
      createContext: () => ({}),
    },
  });

  return {
    ...opts,
    ee,
    subRef,
    onNewMessageSubscription,
    onOpenMock,
    onCloseMock,
    subscriptionEnded,
    nextIterable,
  };
}

describe('experimental_encoder', () => {
  describe('default JSON encoder', () => {
    test('query works without explicit encoder', async () => {
      const ctx = factory();
      expect(await ctx.client.greeting.query()).toBe('hello world');
      expect(await ctx.client.greeting.query('test')).toBe('hello test');
    });

    test('mutation works without explicit encoder', async () => {
      const ctx = factory();
      const result = await ctx.client.echo.mutate({ message: 'hello' });
      expect(result).toEqual({ received: 'hello' });
    });

    test('subscription works without explicit encoder', async () => {
      const ctx = factory();
      ctx.ee.once('subscription:created', () => {
        setTimeout(() => {
          ctx.ee.emit('server:msg', { id: '1' });
          ctx.ee.emit('server:msg', { id: '2' });
        });
      });

      const onDataMock = vi.fn();
      const subscription = ctx.client.onMessage.subscribe(undefined, {
        onData: onDataMock,
      });

      await eventually(() => {
        expect(onDataMock).toHaveBeenCalledTimes(2);
      });

      expect(onDataMock.mock.calls).toMatchInlineSnapshot(`
        Array [
          Array [
            Object {
              "id": "1",
            },
          ],
          Array [
            Object {
              "id": "2",
            },
          ],
        ]
      `);

      subscription.unsubscribe();
    });
  });

  // Upstream sets the encoder on both ends; ours is JSON always, so only the client's is set.
  describe('explicit JSON encoder', () => {
    test('query works with explicit jsonEncoder', async () => {
      const ctx = factory({
        clientEncoder: jsonEncoder,
      });
      expect(await ctx.client.greeting.query()).toBe('hello world');
    });

    test('subscription works with explicit jsonEncoder', async () => {
      const ctx = factory({
        clientEncoder: jsonEncoder,
      });

      ctx.ee.once('subscription:created', () => {
        setTimeout(() => {
          ctx.ee.emit('server:msg', { id: '1' });
        });
      });

      const onDataMock = vi.fn();
      const subscription = ctx.client.onMessage.subscribe(undefined, {
        onData: onDataMock,
      });

      await eventually(() => {
        expect(onDataMock).toHaveBeenCalledTimes(1);
      });

      subscription.unsubscribe();
    });

    // Not upstream: the binary test of a tracked iterable, with the JSON encoder our adapter speaks.
    test('tracked subscription (iterable) works with jsonEncoder', async () => {
      const ctx = factory({ clientEncoder: jsonEncoder });

      const onData = vi.fn<(val: { id: string; data: Message }) => void>();
      const onStarted = vi.fn();

      const sub = ctx.client.iterable.subscribe(undefined, {
        onStarted,
        onData,
      });

      await eventually(() => {
        expect(onStarted).toHaveBeenCalledTimes(1);
      });

      ctx.nextIterable();

      await eventually(() => {
        expect(onData).toHaveBeenCalledTimes(1);
      });

      expect(onData.mock.calls[0]![0]).toEqual({
        id: '1',
        data: { id: '1', title: 'hello 1' },
      });

      sub.unsubscribe();
    });
  });
});

/**
 * Ported from tRPC's own suite: packages/tests/server/websockets.memory.test.ts (github.com/trpc/trpc,
 * tag v11.18.0, unchanged up to the 11.22.1 we pin), with our adapter in place of `applyWSSHandler`.
 */
import { EventEmitter, on } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { wsLink } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { describe, expect, it, vi } from 'vitest';
import { eventually, testServerAndClientResource } from './client';

// Upstream runs with --expose-gc; this exposes it to this file only, without a flag for every worker.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function factory() {
  const ee = new EventEmitter();
  const t = initTRPC.create();

  const appRouter = t.router({
    onData: t.procedure.subscription(({ signal }) => on(ee as any, 'data', { signal })),
  });

  const opts = testServerAndClientResource(appRouter, {
    wsClient: { retryDelayMs: () => 10 },
    client({ wsClient }) {
      return { links: [wsLink({ client: wsClient })] };
    },
  });

  return { ...opts, ee };
}

describe('ws subscription memory', () => {
  it('should free data after each iteration (#6156)', async () => {
    const ctx = factory();

    const onStartedMock = vi.fn();
    const onDataLengthMock = vi.fn();
    const subscription = ctx.client.onData.subscribe(undefined, {
      onStarted() {
        onStartedMock();
      },
      onData(data) {
        expect(Array.isArray(data)).toBe(true);
        onDataLengthMock(data.length);
      },
    });

    await eventually(() => {
      expect(onStartedMock).toHaveBeenCalled();
    });

    const refs = [emitData(), emitData()];

    await eventually(() => {
      expect(onDataLengthMock).toHaveBeenCalledTimes(2);
    });

    // Upstream's `await sleep(0)`: one turn for the adapter's loop to reach its next wait.
    await new Promise((resolve) => setImmediate(resolve));
    gc();

    expect(refs[0]!.deref()).toBeUndefined();
    expect(refs[1]!.deref()).toBeUndefined();

    subscription.unsubscribe();

    function emitData(): WeakRef<never[]> {
      const data: never[] = [];
      const ref = new WeakRef(data);
      ctx.ee.emit('data', data);
      return ref;
    }
  });
});

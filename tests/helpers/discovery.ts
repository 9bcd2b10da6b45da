import type { App } from '../../server/app';
import { startFakeDexScreener, type FakeDexScreener } from '../../server/demo/dexscreener';
import { startFakeGoPlus, type FakeGoPlus } from '../../server/demo/goplus';
import type { StreamEvent } from '../../server/modules/discovery/store';
import { wsClient } from './clients';
import { skipResumePoint } from './resume-point';
import { waitFor } from './wait';
import { afterThis } from './cleanup';

/** Both fakes on loopback, closed after the file (after the app, hooks run in reverse). */
export async function startFakes(
  opts: { dex?: Parameters<typeof startFakeDexScreener>[0]; goplus?: Parameters<typeof startFakeGoPlus>[0] } = {},
) {
  const dex: FakeDexScreener = await startFakeDexScreener({ initial: 0, ...opts.dex });
  const goplus: FakeGoPlus = await startFakeGoPlus(opts.goplus);
  afterThis(async () => {
    await dex.close();
    await goplus.close();
  });
  const keys: Record<string, string> = opts.goplus?.appKey
    ? { GOPLUS_APP_KEY: opts.goplus.appKey, GOPLUS_APP_SECRET: opts.goplus.appSecret ?? '' }
    : {};
  const env: Record<string, string> = { ...dex.env, ...goplus.env, ...keys };
  return { dex, goplus, env };
}

export interface Received {
  id: string;
  data: StreamEvent;
}

/** One WebSocket client subscribed to discovery.events, recording what it receives. */
export async function watchDiscovery(baseUrl: string, token: string, lastEventId?: string) {
  const { client, ws } = wsClient(baseUrl, token);
  const received: Received[] = [];
  const errors: unknown[] = [];
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  const sub = client.discovery.events.subscribe(lastEventId ? { lastEventId } : undefined, {
    onStarted: () => started(),
    onData: skipResumePoint((e) => void received.push(e as Received)),
    onError: (err) => void errors.push(err),
  });
  await ready;
  return {
    client,
    received,
    errors,
    of: <T extends StreamEvent['type']>(type: T, scanId?: number) =>
      received
        .map((r) => r.data)
        .filter(
          (d): d is Extract<StreamEvent, { type: T }> =>
            d.type === type && (scanId === undefined || ('scanId' in d && d.scanId === scanId)),
        ),
    lastId: () => received.at(-1)?.id,
    async until(type: StreamEvent['type'], scanId?: number) {
      await waitFor(
        () =>
          received.some(
            (r) => r.data.type === type && (scanId === undefined || ('scanId' in r.data && r.data.scanId === scanId)),
          ),
        {
          what: `${type}${scanId === undefined ? '' : ` of scan ${scanId}`}`,
        },
      );
    },
    close() {
      sub.unsubscribe();
      ws.close();
    },
  };
}

/** Waits until scan `id` is no longer running; returns its row. */
export async function scanFinished(app: App, id: number) {
  return waitFor(
    async () => {
      const row = await app.discovery.store.scan(id);
      return row && row.status !== 'running' ? row : null;
    },
    { what: `scan ${id} to finish` },
  );
}

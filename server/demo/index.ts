/**
 * `UPSTREAMS=demo`: protocol-faithful fake upstreams on loopback. The real adapters are
 * pointed at them through the same base-URL variables a deployment would use, so demo mode
 * exercises exactly the code that talks to the live services.
 */
import { startFakeDexScreener } from './dexscreener';
import { startFakeGoPlus } from './goplus';
import { startFakeBinance } from './binance';

export interface FakeUpstream {
  /** Base-URL variables to override, e.g. { DEXSCREENER_URL: 'http://127.0.0.1:40123' }. */
  env: Record<string, string>;
  close(): Promise<void>;
}

// Each feature with an upstream adds its fake's starter here.
const starters: Array<() => Promise<FakeUpstream>> = [
  startFakeBinance,
  () => startFakeDexScreener({ initial: 30, newPerCall: 3 }),
  // Keyed, so demo mode exercises the access-token and batch path.
  async () => {
    const g = await startFakeGoPlus({ appKey: 'demo-app-key', appSecret: 'demo-app-secret' });
    return { env: { ...g.env, GOPLUS_APP_KEY: 'demo-app-key', GOPLUS_APP_SECRET: 'demo-app-secret' }, close: g.close };
  },
];

export async function startDemoUpstreams(): Promise<FakeUpstream> {
  const started = await Promise.all(starters.map((start) => start()));
  return {
    env: Object.assign({}, ...started.map((f) => f.env)),
    close: async () => void (await Promise.all(started.map((f) => f.close()))),
  };
}

/**
 * `UPSTREAMS=demo`: protocol-faithful fake upstreams on loopback. The real adapters are
 * pointed at them through the same base-URL variables a deployment would use, so demo mode
 * exercises exactly the code that talks to the live services.
 */
import { randomBytes } from 'node:crypto';
import { startFakeDexScreener } from './dexscreener';
import { startFakeGoPlus } from './goplus';
import { startFakeBinance } from './binance';
import { startFakeVinted } from './vinted';
import type { App } from '../app';

export interface FakeUpstream {
  /** Base-URL variables to override, e.g. { DEXSCREENER_URL: 'http://127.0.0.1:40123' }. */
  env: Record<string, string>;
  /** Demo data that goes through the app once it runs (e.g. a signed-in Vinted session). */
  seed?: (app: App) => Promise<void>;
  close(): Promise<void>;
}

// Each feature with an upstream adds its fake's starter here.
const starters: Array<() => Promise<FakeUpstream>> = [
  startFakeBinance,
  () => startFakeDexScreener({ initial: 30, newPerCall: 3 }),
  // Keyed, so demo mode exercises the access-token and batch path.
  async () => {
    // Throwaway credentials, made up per run: the fake only checks the request is signed with them.
    const creds = { appKey: randomBytes(8).toString('hex'), appSecret: randomBytes(16).toString('hex') };
    const g = await startFakeGoPlus(creds);
    return { env: { ...g.env, GOPLUS_APP_KEY: creds.appKey, GOPLUS_APP_SECRET: creds.appSecret }, close: g.close };
  },
  // Short-lived tokens, so the vault page shows the countdown and the scheduler at work.
  async () => {
    const v = await startFakeVinted({ accessLifetimeSeconds: 15 * 60 });
    // Each run's fake is new, so its session replaces the one stored by the previous run.
    const seed = async (app: App) =>
      void (await app.vault.saveSession({ provider: 'vinted', label: 'default', secrets: { cookie: v.signIn() } }));
    return { env: v.env, seed, close: v.close };
  },
];

export async function startDemoUpstreams(): Promise<FakeUpstream> {
  const started = await Promise.all(starters.map((start) => start()));
  return {
    env: Object.assign({}, ...started.map((f) => f.env)),
    seed: async (app) => void (await Promise.all(started.map((f) => f.seed?.(app)))),
    close: async () => void (await Promise.all(started.map((f) => f.close()))),
  };
}

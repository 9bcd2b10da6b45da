import type { AnyRouter } from '@trpc/server';
import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import type { Logger } from '../../server/log';
import { createContextInner } from '../../server/context';
import { startServer, type RunningServer } from '../../server/http';
import { appRouter } from '../../server/router';
import { createCallerFactory } from '../../server/trpc';
import { createTestDatabase } from './db';
import { afterThis } from './cleanup';

const createCaller = createCallerFactory(appRouter);

/** scrypt at N=2^10: about 1 MiB and a millisecond per hash, so sign-ups stay cheap on a busy machine. */
export const TEST_HASH_COST = '10';
export type Caller = ReturnType<typeof createCaller>;

// An explicit vault key: an in-memory database has no data directory to keep a key file in.
export const testVaultKey = randomBytes(32).toString('base64');

// A test never reaches a real upstream: unless it passes a fake's address, every upstream is a
// loopback port where nothing listens, so a call fails at once instead of leaving the machine.
const NOWHERE = 'http://127.0.0.1:9';
const noUpstreams = {
  BINANCE_WS_URL: 'ws://127.0.0.1:9',
  BINANCE_REST_URL: NOWHERE,
  DEXSCREENER_URL: NOWHERE,
  GOPLUS_URL: NOWHERE,
  VINTED_URL: NOWHERE,
  VINTED_API_URL: NOWHERE,
};

/** An app on its own fresh database, closed after the file's tests. */
export async function createTestApp(
  env: Record<string, string | undefined> = {},
  opts: { log?: Logger; now?: () => number } = {},
): Promise<App> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    UPSTREAMS: 'demo',
    PASSWORD_HASH_COST: TEST_HASH_COST,
    VAULT_KEY: testVaultKey,
    ...noUpstreams,
    ...env,
  });
  const app = await createApp(config, { database: await createTestDatabase(), log: opts.log, now: opts.now });
  afterThis(() => app.close());
  return app;
}

export async function startTestServer(
  app: App,
  opts: { router?: AnyRouter; staticDir?: string } = {},
): Promise<RunningServer> {
  const server = await startServer(app, { port: 0, host: '127.0.0.1', ...opts });
  afterThis(() => server.close());
  return server;
}

let counter = 0;

/** A caller with no session, from an address of its own (per-address limits apply only where a test shares one). */
export function anonymousCaller(app: App, ip = `198.51.100.${++counter % 250}`): Caller {
  return createCaller(createContextInner({ app, request: { ip } }));
}

export function uniqueEmail(prefix = 'user') {
  return `${prefix}-${++counter}-${randomBytes(3).toString('hex')}@example.com`;
}

/** Signs a new account up through the real procedure; returns its caller and bearer token. */
export async function signUp(app: App, input: Partial<{ email: string; name: string; password: string }> = {}) {
  const email = input.email ?? uniqueEmail();
  const { user, token } = await anonymousCaller(app).auth.signUp({
    email,
    name: input.name ?? email.split('@')[0]!,
    password: input.password ?? 'correct horse battery',
  });
  return { user, token, caller: await callerForToken(app, token) };
}

export async function callerForToken(app: App, token: string, ip?: string): Promise<Caller> {
  const { user, session } = await app.auth.validate(token);
  return createCaller(createContextInner({ app, user, session, authVia: 'bearer', request: ip ? { ip } : {} }));
}

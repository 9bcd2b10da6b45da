import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashPassword, PRODUCTION_HASH_COST, verifyPassword } from '../../server/modules/auth/password';
import { loadConfig, ConfigError } from '../../server/config';
import { createTestDatabase } from '../helpers/db';
import { httpClient } from '../helpers/clients';
import { exited, spawnMain, startMain } from '../helpers/main-process';

describe('the server process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hubcast-data-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Two cold starts of tsx and the migrations: slow on a busy machine.
  it('keeps accounts across a stop and a start, and closes sockets with "service restart" on SIGTERM', async () => {
    // Postgres run: a fresh database the process migrates itself; PGlite run: a data directory.
    const database = process.env.DATABASE_URL ? await createTestDatabase() : null;
    if (database) afterAll(() => database.close());
    const env: Record<string, string> = database?.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir };

    const first = await startMain(env);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    const { user } = await httpClient(first.url).auth.signUp.mutate({
      email: 'kept@example.com',
      password: 'survives restarts',
      name: 'Kept',
    });
    const ws = new WebSocket(`${first.url.replace('http', 'ws')}/trpc`);
    await new Promise((r) => ws.once('open', r));
    const closeCode = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    first.child.kill('SIGTERM');
    expect(await closeCode).toBe(1012);
    expect(await exited(first.child)).toBe(0);

    const second = await startMain(env);
    const again = await httpClient(second.url).auth.signIn.mutate({
      email: 'kept@example.com',
      password: 'survives restarts',
    });
    expect(again.user).toEqual(user);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  }, 180_000);

  it('refuses to start on a bad variable and names it', async () => {
    const child = spawnMain({ PATH: process.env.PATH, PORT: 'three thousand', UPSTREAMS: 'sometimes' });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    expect(await exited(child)).toBe(1);
    expect(err).toContain('PORT');
    expect(err).toContain('UPSTREAMS');
  });
});

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATA_DIR: './.data',
      UPSTREAMS: 'live',
      BINANCE_WS_URL: 'wss://data-stream.binance.vision',
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.allowedOrigins).toContain('http://localhost:3000');
  });

  it('lists every bad variable at once', () => {
    const err = (() => {
      try {
        loadConfig({ PORT: '-1', DATABASE_URL: 'mysql://x', DEXSCREENER_URL: 'not a url' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'DATABASE_URL',
      'DEXSCREENER_URL',
    ]);
  });

  it('lets only NODE_ENV=test lower the password hash cost', () => {
    expect(loadConfig({}).PASSWORD_HASH_COST).toBe(PRODUCTION_HASH_COST);
    expect(loadConfig({ NODE_ENV: 'test', PASSWORD_HASH_COST: '10' }).PASSWORD_HASH_COST).toBe(10);
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => loadConfig({ NODE_ENV, PASSWORD_HASH_COST: '10' })).toThrow(
        /PASSWORD_HASH_COST: must be at least 15 outside NODE_ENV=test/,
      );
    }
    expect(loadConfig({ NODE_ENV: 'production', PASSWORD_HASH_COST: '16' }).PASSWORD_HASH_COST).toBe(16);
  });

  it('hashes at the configured cost and records it in the hash', async () => {
    const cheap = await hashPassword('correct horse', 10);
    expect(cheap.split('$').slice(0, 2)).toEqual(['scrypt', String(2 ** 10)]);
    expect(await verifyPassword(cheap, 'correct horse')).toBe(true);
    expect((await hashPassword('correct horse')).split('$')[1]).toBe(String(2 ** PRODUCTION_HASH_COST));
  });
});

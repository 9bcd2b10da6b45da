import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { testVaultKey } from './app';
import { createTestDatabase } from './db';
import { afterThis } from './cleanup';

const root = new URL('../..', import.meta.url).pathname;

// Every server a file starts (its demo upstreams run inside it) is killed when its test ends,
// whatever the outcome, and again if the worker itself exits: a timed-out test must not leave a
// process listening for hours.
const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
};
afterEach(killAll);
afterThis(killAll);
process.once('exit', killAll);

export function spawnMain(env: Record<string, string | undefined>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  return child;
}

/** Runs the real entry point (`tsx server/main.ts`) and resolves once it has printed its URL. */
export function startMain(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  // An explicit vault key: on Postgres there is no data directory to generate one into.
  const child = spawnMain({
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    UPSTREAMS: 'demo',
    VAULT_KEY: testVaultKey,
    ...env,
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Hubcast on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
}

export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

/**
 * Where a server process keeps its data, kept across its restarts and removed after the file:
 * a fresh Postgres database when DATABASE_URL is set, else a PGlite data directory on disk.
 */
export async function mainStorage(prefix = 'hubcast-main-'): Promise<{ DATABASE_URL: string } | { DATA_DIR: string }> {
  if (process.env.DATABASE_URL) {
    const database = await createTestDatabase();
    afterThis(() => database.close());
    return { DATABASE_URL: database.url! };
  }
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  afterThis(() => rmSync(dataDir, { recursive: true, force: true }));
  return { DATA_DIR: dataDir };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { startFakes } from '../helpers/discovery';
import { startFakeBinance } from '../helpers/market';
import { closedPort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

const fakes = await startFakes({ dex: { newPerCall: 0 } });
const binance = await startFakeBinance();
const app = await createTestApp({ ...fakes.env, ...binance.env });
const server = await startTestServer(app);
const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

/** The real CLI in its own process; execFile's timeout kills it whatever happens. Never throws: exit code returned. */
async function cli(token: string | null, args: string[], url = server.url) {
  const env = {
    PATH: process.env.PATH,
    HUBCAST_URL: url,
    HUBCAST_CREDENTIALS: '/nonexistent/credentials.json',
    ...(token ? { HUBCAST_TOKEN: token } : {}),
  };
  return run(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', ...args], {
    cwd: root,
    env,
    timeout: 40_000,
  }).then(
    (r) => ({ ...r, code: 0 }),
    (err: { stdout: string; stderr: string; code: number }) => ({
      stdout: err.stdout,
      stderr: err.stderr,
      code: err.code,
    }),
  );
}

describe('npm run cli -- discovery', () => {
  it('trigger lists every checked token once (new and already known), with progress lines that do not repeat', async () => {
    const user = await signUp(app);
    const first = fakes.dex.mint(3, 'ethereum');
    await cli(user.token, ['discovery', 'trigger', '--chain=ethereum', '--max=3']);
    await waitFor(async () => !(await app.discovery.status()).scanning, { what: 'the first scan to end' });
    const second = fakes.dex.mint(4, 'ethereum');
    // 7 candidates: 4 new, 3 checked again.
    const out = await cli(user.token, ['discovery', 'trigger', '--chain=ethereum', '--max=7']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.split('\n');
    const progress = lines.filter((l) => /^checked \d+ of 7…$/.test(l));
    expect(new Set(progress).size).toBe(progress.length);
    expect(lines).toContainEqual(expect.stringMatching(/^scan \d+ done in [\d.]+ s: 4 new, 3 updated/));
    // The final table: a header, a rule, one row per checked token.
    const header = lines.findIndex((l) => /^\s+chain\s+symbol\s+verdict\s+risk/.test(l));
    const rows = lines.slice(header + 2).filter(Boolean);
    expect(rows).toHaveLength(7);
    for (const t of second)
      expect(rows.filter((r) => r.startsWith('new ') && r.includes(` ${t.symbol.slice(0, 12)} `))).not.toHaveLength(0);
    expect(rows.filter((r) => r.startsWith('known'))).toHaveLength(first.length);
    expect(rows.filter((r) => r.startsWith('new'))).toHaveLength(second.length);
  });

  it('status says when the last scan failed and why; --json gives the raw status', async () => {
    const user = await signUp(app);
    await waitFor(async () => !(await app.discovery.status()).scanning, { what: 'no scan running' });
    fakes.dex.failNext(503, 6, { path: '/token-' });
    const failed = await cli(user.token, ['discovery', 'trigger']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^scan \d+ failed: Scan failed: DexScreener error 503/m);

    const status = await cli(user.token, ['discovery', 'status']);
    expect(status.stdout).toMatch(
      /^last scan\s+scan \d+ FAILED \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: Scan failed: DexScreener error 503/m,
    );
    const raw = JSON.parse((await cli(user.token, ['discovery', 'status', '--json'])).stdout);
    expect(raw.lastScan).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/DexScreener error 503/) });
  });
});

describe('npm run cli -- tables, --json and errors', () => {
  it('market strategies prints a table by default and the raw list with --json', async () => {
    const user = await signUp(app);
    await user.caller.market.strategies.create({
      name: 'Dip buyer',
      symbol: 'ETHUSDT',
      timeframe: '4h',
      rule: { type: 'rsi', oversold: 25, overbought: 75 },
      positionSize: 500,
      takeProfitPct: 4,
      stopLossPct: 2,
      enabled: true,
    });
    await user.caller.market.strategies.create({
      name: 'Trend',
      symbol: 'BTCUSDT',
      timeframe: '1h',
      rule: { type: 'ema_cross' },
      positionSize: 100,
      takeProfitPct: 3,
      stopLossPct: 1.5,
      enabled: false,
    });
    const table = (await cli(user.token, ['market', 'strategies'])).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^id\s+name\s+series\s+rule\s+size\s+TP %\s+SL %\s+state$/);
    const raw = JSON.parse((await cli(user.token, ['market', 'strategies', '--json'])).stdout) as {
      name: string;
      rule: unknown;
    }[];
    // One row per strategy (a new account also has the starter set), ours among them.
    expect(table.slice(2)).toHaveLength(raw.length);
    expect(table.slice(2)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\s*\d+\s+Dip buyer\s+ETHUSDT 4h\s+RSI 25\/75\s+500\s+4\s+2\s+on$/),
        expect.stringMatching(/^\s*\d+\s+Trend\s+BTCUSDT 1h\s+EMA 9\/21 cross\s+100\s+3\s+1\.5\s+off$/),
      ]),
    );
    expect(raw.map((s) => s.name)).toEqual(expect.arrayContaining(['Dip buyer', 'Trend']));
    expect(raw.find((s) => s.name === 'Dip buyer')!.rule).toEqual({ type: 'rsi', oversold: 25, overbought: 75 });
    expect((await cli(user.token, ['market', 'positions'])).stdout).toBe('No open positions.\n');
  });

  it('without a session: says to sign in and gives the command', async () => {
    const out = await cli(null, ['market', 'strategies']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('Sign in first');
    expect(out.stderr).toContain(`Sign in with: npm run cli -- login --email you@example.com --url ${server.url}`);
    const watch = await cli(null, ['discovery', 'watch']);
    expect(watch.code).toBe(1);
    expect(watch.stderr).toContain('Sign in with: npm run cli -- login');
  });

  it('with the server down: names the URL that failed, over HTTP and over the WebSocket', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const http = await cli('some-token', ['discovery', 'status'], url);
    expect(http.code).toBe(1);
    expect(http.stderr).toContain(`Cannot reach the Hubcast server at ${url} (connection refused)`);
    const ws = await cli('some-token', ['discovery', 'watch'], url);
    expect(ws.code).toBe(1);
    expect(ws.stderr).toContain(`Cannot reach the Hubcast server at ${url}`);
  });
});

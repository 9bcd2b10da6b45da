import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startFakeGoPlus } from '../../server/demo/goplus';
import { serveLoopback, sendJson } from '../../server/demo/serve';
import type { MarketFacts } from '../../server/modules/discovery/dexscreener';
import { GoPlusClient, type SecurityResult } from '../../server/modules/discovery/goplus';
import { assessRisk } from '../../server/modules/discovery/risk';
import { createTestApp } from '../helpers/app';

/** Recorded GoPlus answers (tests/fixtures/goplus): the first entry of `result`, as the adapter hands it on. */
function recorded(name: string, kind: 'evm' | 'solana' = name.startsWith('solana') ? 'solana' : 'evm'): SecurityResult {
  const body = JSON.parse(readFileSync(new URL(`../fixtures/goplus/${name}.json`, import.meta.url), 'utf8'));
  return { ok: true, report: { kind, data: Object.values(body.result)[0] as Record<string, unknown> } };
}

const liquid: MarketFacts = {
  name: 'X',
  symbol: 'X',
  priceUsd: 1,
  liquidityUsd: 250_000,
  volume24hUsd: 90_000,
  fdvUsd: 1e7,
  pairCreatedAt: new Date(),
  url: null,
  iconUrl: null,
};

describe('risk verdict on recorded GoPlus answers', () => {
  it('a clean, widely held token with locked liquidity is safe with no findings', () => {
    expect(assessRisk(recorded('evm-clean'), liquid)).toEqual({
      riskScore: 0,
      isSafe: true,
      verified: true,
      risks: [],
    });
    expect(assessRisk(recorded('solana-clean'), liquid)).toMatchObject({ riskScore: 0, isSafe: true, risks: [] });
  });

  it('a honeypot scores 100 and is never safe', () => {
    const v = assessRisk(recorded('evm-honeypot'), liquid);
    expect(v).toMatchObject({ riskScore: 100, isSafe: false, verified: true });
    expect(v.risks).toEqual(
      expect.arrayContaining(['Honeypot: buyers cannot sell', 'Holders cannot sell all their tokens', 'Sell tax 100%']),
    );
  });

  it('high taxes add up with the owner being able to change them', () => {
    const v = assessRisk(recorded('evm-high-tax'), liquid);
    expect(v.risks).toEqual(['High sell tax 25%', 'High buy tax 12%', 'Tax can be changed by the owner']);
    expect(v).toMatchObject({ riskScore: 65, isSafe: false });
  });

  it('a closed-source contract with a dominant creator and an unlocked pool: risky findings, honeypot and taxes unknown', () => {
    // GoPlus cannot simulate trades on closed source: no honeypot or tax fields at all.
    const v = assessRisk(recorded('evm-not-open-source'), liquid);
    expect(v.risks).toEqual([
      'Security data incomplete: GoPlus did not report honeypot, sell restriction, buy tax, sell tax',
      'Contract source code is not verified',
      'One holder owns 90% of the supply',
      'Only 12 holders',
      'Only 0% of liquidity is locked',
    ]);
    expect(v).toMatchObject({ riskScore: 80, isSafe: false, verified: false });
  });

  it('owner powers (mint, balance changes, hidden owner, pause, proxy) cap at 100', () => {
    const v = assessRisk(recorded('evm-mintable-owner'), liquid);
    expect(v.riskScore).toBe(100);
    expect(v.risks).toEqual(
      expect.arrayContaining([
        'Owner can mint new tokens',
        'Owner can change balances',
        'Hidden owner',
        'Transfers can be paused',
        'Upgradeable proxy contract',
      ]),
    );
  });

  it('a young token with no honeypot or tax data is unverified, never safe, and says what is missing', () => {
    const v = assessRisk(recorded('evm-young-missing-fields'), {
      ...liquid,
      liquidityUsd: null,
      fdvUsd: null,
      pairCreatedAt: null,
    });
    expect(v).toEqual({
      riskScore: 50,
      isSafe: false,
      verified: false,
      risks: [
        'Security data incomplete: GoPlus did not report honeypot, sell restriction, buy tax, sell tax',
        'Only 3 holders',
        'Liquidity not reported yet',
      ],
    });
  });

  it('each core field on its own: without it a clean token is unverified', () => {
    const clean = recorded('evm-clean');
    if (!clean.ok) throw new Error('fixture');
    for (const field of ['is_honeypot', 'cannot_sell_all', 'buy_tax', 'sell_tax', 'is_open_source']) {
      const { [field]: _gone, ...rest } = clean.report.data;
      const v = assessRisk({ ok: true, report: { kind: 'evm', data: rest } }, liquid);
      expect(v, field).toMatchObject({ isSafe: false, verified: false, riskScore: 50 });
    }
    const solana = recorded('solana-clean');
    if (!solana.ok) throw new Error('fixture');
    const { freezable: _f, ...noFreeze } = solana.report.data;
    expect(assessRisk({ ok: true, report: { kind: 'solana', data: noFreeze } }, liquid)).toMatchObject({
      isSafe: false,
      verified: false,
      risks: ['Security data incomplete: GoPlus did not report freeze authority'],
    });
  });

  it("GoPlus' trust list caps the score but keeps the findings visible", () => {
    const v = assessRisk(recorded('evm-trusted'), liquid);
    expect(v.riskScore).toBe(10);
    expect(v.isSafe).toBe(true);
    expect(v.risks).toContain('Owner can mint new tokens');
  });

  it('Solana authorities, transfer fee and concentration are findings', () => {
    const v = assessRisk(recorded('solana-authorities'), liquid);
    expect(v.riskScore).toBe(100);
    expect(v.risks).toEqual(
      expect.arrayContaining([
        'Authority can change balances',
        'Authority can freeze accounts',
        'Authority can mint new tokens',
        'Transfer fee 30%',
        'One holder owns 71% of the supply',
      ]),
    );
  });

  it('market facts: no pair and thin liquidity', () => {
    expect(assessRisk(recorded('evm-clean'), null)).toMatchObject({
      riskScore: 30,
      risks: ['No trading pair found yet'],
      isSafe: false,
    });
    expect(assessRisk(recorded('evm-clean'), { ...liquid, liquidityUsd: 420 }).risks).toEqual([
      'Very low liquidity ($420)',
    ]);
  });

  it('a failed check is unverified: score at least 50, never safe, the reason first', () => {
    const v = assessRisk({ ok: false, reason: 'Security check unavailable (GoPlus error 500)' }, liquid);
    expect(v).toEqual({
      riskScore: 50,
      isSafe: false,
      verified: false,
      risks: ['Security check unavailable (GoPlus error 500)'],
    });
  });
});

// The access token comes from the vault's GoPlus session, seeded from GOPLUS_APP_KEY/GOPLUS_APP_SECRET.
async function keyedApp(lifetime: number, secret: string) {
  const fake = await startFakeGoPlus({ appKey: 'key', appSecret: 'secret', tokenLifetimeSeconds: lifetime });
  afterAll(fake.close);
  // No scheduler: the first token is signed for on first use, as the test counts.
  const app = await createTestApp({
    GOPLUS_URL: fake.url,
    GOPLUS_APP_KEY: 'key',
    GOPLUS_APP_SECRET: secret,
    VAULT_AUTO_REFRESH_ENABLED: 'false',
  });
  return { fake, app, client: app.discovery.goplus };
}

describe('GoPlus adapter on recorded answers', async () => {
  const keyed = await keyedApp(5, 'secret');
  const wrongSecret = await keyedApp(7200, 'wrong');

  it('turns "still syncing" (code 2, address missing) into an unverified reason', async () => {
    const body = JSON.parse(readFileSync(new URL('../fixtures/goplus/evm-syncing.json', import.meta.url), 'utf8'));
    const fake = await serveLoopback((_req, res) => sendJson(res, 200, body));
    onTestFinished(fake.close);
    const client = new GoPlusClient({
      baseUrl: fake.url,
      policy: { retries: 0, minTimeoutMs: 1, timeoutMs: 2000, maxRetryAfterMs: 0 },
      tokens: null,
    });
    const out = await client.check('ethereum', ['0x5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081']);
    expect([...out.values()]).toEqual([{ ok: false, reason: 'Security check unavailable (GoPlus has no data yet)' }]);
    const unsupported = await client.check('tron', ['TXYZ']);
    expect(unsupported.get('TXYZ')).toEqual({
      ok: false,
      reason: 'Security check unavailable (GoPlus does not cover tron)',
    });
  });

  it('signs for an access token once, batches under it, and renews it before it expires', async () => {
    const { fake, client, app } = keyed;
    const addresses = ['0x1111111111111111111111111111111111111111', '0x2222222222222222222222222222222222222222'];
    const first = await client.check('ethereum', addresses);
    expect([...first.values()].every((r) => r.ok)).toBe(true);
    expect(fake.lookups()).toEqual([expect.objectContaining({ addresses, authorized: true })]);
    await client.check('ethereum', addresses);
    expect(fake.tokensIssued()).toBe(1);
    // Renewed in the last fifth of its (5 s) lifetime: the next call signs again instead of failing with 4022.
    // The clock moves on instead of the test sleeping (the fake and the vault read the same clock).
    const [session] = await app.vault.sessions();
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => void vi.useRealTimers());
    vi.setSystemTime(session!.expiresAt!.getTime() - 900);
    await client.check('base', addresses);
    expect(fake.tokensIssued()).toBe(2);
    expect(fake.lookups().every((l) => l.authorized)).toBe(true);
  });

  it('a wrong app secret becomes an unverified reason naming the variables to check', async () => {
    const { client } = wrongSecret;
    const out = await client.check('ethereum', ['0x1111111111111111111111111111111111111111']);
    expect([...out.values()][0]).toEqual({
      ok: false,
      reason: expect.stringMatching(/GOPLUS_APP_KEY \/ GOPLUS_APP_SECRET/),
    });
  });
});

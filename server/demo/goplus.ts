import { createHash, randomBytes } from 'node:crypto';
import type { FakeUpstream } from './index';
import { applyFault, FailureQueue, hashOf, readBody, sendJson, serveLoopback, type Fault } from './serve';

export interface FakeGoPlusRequest {
  path: string;
  addresses: string[];
  authorized: boolean;
}

export interface FakeGoPlus extends FakeUpstream {
  url: string;
  requests: FakeGoPlusRequest[];
  /** Security look-ups only (not token requests). */
  lookups(): FakeGoPlusRequest[];
  /** Next `count` look-ups fail: HTTP `status`, or HTTP 200 carrying GoPlus `bodyCode` (e.g. 4029). */
  failNext(status: number, count?: number, opts?: { retryAfterSeconds?: number; bodyCode?: number }): void;
  /** Every look-up that includes `address` answers HTTP `status` until cleared (status null). */
  failAddress(address: string, status: number | null): void;
  tokensIssued(): number;
  /** Every request (token and look-ups) misbehaves this way until `fault(null)`. */
  fault(f: Fault | null): void;
  /**
   * Answers the next `n` look-ups, then holds every later one unanswered until `release()`:
   * a scan stopped part-way, for as long as a test needs to look at it.
   */
  holdAfter(n: number): { held(): number; release(): void };
}

const EVM_CHAINS = new Set([
  '1',
  '56',
  '137',
  '42161',
  '8453',
  '43114',
  '10',
  '250',
  '25',
  '59144',
  '81457',
  '324',
  '534352',
  '5000',
]);

/** A token's traits follow from its address, so the fake DexScreener and this one agree. */
export function evmSecurity(address: string): Record<string, unknown> {
  const bucket = hashOf(address) % 100;
  const clean = {
    is_open_source: '1',
    is_proxy: '0',
    is_mintable: '0',
    owner_change_balance: '0',
    hidden_owner: '0',
    selfdestruct: '0',
    can_take_back_ownership: '0',
    transfer_pausable: '0',
    is_blacklisted: '0',
    slippage_modifiable: '0',
    is_honeypot: '0',
    cannot_buy: '0',
    cannot_sell_all: '0',
    buy_tax: '0',
    sell_tax: '0',
    is_airdrop_scam: '0',
    trust_list: '0',
    holder_count: String(300 + (hashOf(address) % 5000)),
    owner_percent: '0.01',
    creator_percent: '0.02',
    holders: [{ address: '0xdead', percent: '0.08', is_contract: 0, is_locked: 0 }],
    lp_holders: [{ address: '0xlocker', percent: '0.95', is_locked: 1 }],
  };
  if (bucket < 10) return { ...clean, is_honeypot: '1', cannot_sell_all: '1', sell_tax: '1' };
  if (bucket < 22) return { ...clean, buy_tax: '0.12', sell_tax: '0.25', slippage_modifiable: '1' };
  if (bucket < 30) return { ...clean, is_mintable: '1', owner_change_balance: '1', hidden_owner: '1' };
  // Unverified source: GoPlus leaves most fields out.
  if (bucket < 37)
    return {
      is_open_source: '0',
      holder_count: '41',
      lp_holders: [{ address: '0xpair', percent: '0.99', is_locked: 0 }],
    };
  if (bucket < 45)
    return {
      ...clean,
      holders: [{ address: '0xwhale', percent: '0.62', is_contract: 0 }],
      lp_holders: [{ address: '0xpair', percent: '0.9', is_locked: 0 }],
    };
  // Very young: analysis incomplete, many fields missing.
  if (bucket < 50) return { is_open_source: '1', buy_tax: '', sell_tax: '', holder_count: '3' };
  return clean;
}

export function solanaSecurity(address: string): Record<string, unknown> {
  const bucket = hashOf(address) % 100;
  const off = { status: '0', authority: [] };
  const on = {
    status: '1',
    authority: [{ address: 'Auth1111111111111111111111111111111111111', malicious_address: 0 }],
  };
  const clean = {
    mintable: off,
    freezable: off,
    closable: off,
    balance_mutable_authority: off,
    metadata_mutable: { ...off, metadata_upgrade_authority: [] },
    non_transferable: '0',
    transfer_fee: {},
    transfer_hook: [],
    trusted_token: 0,
    default_account_state: '1',
    holders: [{ account: 'Hold1', percent: '0.07', is_locked: 0 }],
    lp_holders: [{ account: 'Lock1', percent: '0.9', is_locked: 1 }],
    dex: [{ dex_name: 'Raydium', tvl: '12000' }],
  };
  if (bucket < 10) return { ...clean, non_transferable: '1', freezable: on };
  if (bucket < 22) return { ...clean, transfer_fee: { fee_rate: '0.25', maximum_fee: '1000000' } };
  if (bucket < 30) return { ...clean, mintable: on, freezable: on, balance_mutable_authority: on };
  if (bucket < 40)
    return {
      ...clean,
      holders: [{ account: 'Whale', percent: '0.71', is_locked: 0 }],
      lp_holders: [{ account: 'Pool', percent: '1', is_locked: 0 }],
    };
  if (bucket < 45) return { mintable: on, holders: [] };
  return clean;
}

/** `now`: the fake's clock in ms (tests share a faster one with the app, as with the fake Vinted). */
export async function startFakeGoPlus(
  opts: { appKey?: string; appSecret?: string; tokenLifetimeSeconds?: number; now?: () => number } = {},
): Promise<FakeGoPlus> {
  const now = opts.now ?? Date.now;
  const requests: FakeGoPlusRequest[] = [];
  const failures = new FailureQueue();
  const failing = new Map<string, number>();
  const issued = new Map<string, number>();
  const lifetime = opts.tokenLifetimeSeconds ?? 7200;
  let fault: Fault | null = null;
  let hold: { left: number; waiting: Array<() => void> } | null = null;
  const release = () => {
    const waiting = hold?.waiting ?? [];
    hold = null;
    for (const go of waiting) go();
  };

  const server = await serveLoopback(async (req, res, url) => {
    const path = url.pathname;
    if (await applyFault(fault, res)) return;
    if (req.method === 'POST' && path === '/api/v1/token') {
      requests.push({ path, addresses: [], authorized: false });
      let body: { app_key?: string; time?: number; sign?: string };
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 200, { code: 4012, message: 'invalid request body', result: null });
      }
      const expected = createHash('sha1').update(`${opts.appKey}${body.time}${opts.appSecret}`).digest('hex');
      if (!opts.appKey || body.app_key !== opts.appKey || body.sign !== expected)
        return sendJson(res, 200, { code: 4012, message: 'signature verification failure', result: null });
      if (Math.abs(Number(body.time) - now() / 1000) > 1000)
        return sendJson(res, 200, { code: 4011, message: 'time is out of range', result: null });
      const token = `Bearer ${randomBytes(16).toString('hex')}`;
      issued.set(token, now() + lifetime * 1000);
      return sendJson(res, 200, { code: 1, message: 'OK', result: { access_token: token, expires_in: lifetime } });
    }
    const evm = /^\/api\/v1\/token_security\/([^/]+)$/.exec(path);
    const solana = path === '/api/v1/solana/token_security';
    if (!evm && !solana) return sendJson(res, 404, { code: 404, message: `Not found: ${path}` });

    const auth = req.headers.authorization;
    const expiry = auth ? issued.get(auth) : undefined;
    const addresses = (url.searchParams.get('contract_addresses') ?? '').split(',').filter(Boolean);
    requests.push({ path, addresses, authorized: expiry !== undefined && expiry > now() });
    if (hold && hold.left-- <= 0) await new Promise<void>((go) => hold!.waiting.push(go));
    if (auth && (expiry === undefined || expiry <= now()))
      return sendJson(res, 200, { code: 4022, message: 'invalid token', result: null });
    const fail = failures.take(path);
    if (fail?.bodyCode) return sendJson(res, 200, { code: fail.bodyCode, message: 'too many requests', result: null });
    if (fail) {
      const headers: Record<string, string> =
        fail.retryAfterSeconds !== undefined ? { 'Retry-After': String(fail.retryAfterSeconds) } : {};
      return sendJson(res, fail.status, { code: 5000, message: 'system error' }, headers);
    }
    const bad = addresses.map((a) => failing.get(a.toLowerCase())).find((s) => s !== undefined);
    if (bad !== undefined) return sendJson(res, bad, { code: 5000, message: 'system error' });
    if (evm && !EVM_CHAINS.has(evm[1]!))
      return sendJson(res, 200, { code: 2018, message: 'chain not supported', result: null });
    // Without an access token, only the first address of a batch is answered.
    const answered = expiry !== undefined ? addresses : addresses.slice(0, 1);
    const result = Object.fromEntries(
      answered.map((a) => (evm ? [a.toLowerCase(), evmSecurity(a)] : [a, solanaSecurity(a)])),
    );
    sendJson(res, 200, { code: 1, message: 'OK', result });
  });

  return {
    url: server.url,
    env: { GOPLUS_URL: server.url },
    close: () => {
      release();
      return server.close();
    },
    requests,
    lookups: () => requests.filter((r) => r.path !== '/api/v1/token'),
    failNext: (status, count, o) => failures.add(status, count, o),
    failAddress: (address, status) =>
      status === null ? failing.delete(address.toLowerCase()) : failing.set(address.toLowerCase(), status),
    tokensIssued: () => issued.size,
    fault: (f) => void (fault = f),
    holdAfter(n) {
      release();
      const h = (hold = { left: n, waiting: [] });
      return { held: () => h.waiting.length, release: () => void (hold === h && release()) };
    },
  };
}

import { SAFE_BELOW, UNVERIFIED_FLOOR } from '../../../shared/discovery';
import { RISK_LIMITS as L, RISK_RULES, type RiskRuleName } from '../../../shared/discovery-risk';
import type { MarketFacts } from './dexscreener';
import type { SecurityReport, SecurityResult } from './goplus';

/**
 * The risk verdict. The rules, their points and limits are in shared/discovery-risk.ts (the page
 * explains the score from the same list); this file reads GoPlus' and DexScreener's facts into
 * findings. `isSafe` means verified, no "never safe" finding and a score below {@link SAFE_BELOW}.
 *
 * Optional fields GoPlus leaves out add nothing. The core fields ({@link CORE_FIELDS}: honeypot,
 * taxes, sell restrictions, source; on Solana the authorities) are what "safe" rests on: when
 * any is missing or blank the token is unverified like a failed check (floor
 * {@link UNVERIFIED_FLOOR}, never safe), and the risks say which facts are missing. A token on
 * GoPlus' trust list is capped at 10 points, but a "never safe" finding still stands.
 */

/** GoPlus field → what it tells, for the "not reported" reason. */
export const CORE_FIELDS = {
  evm: {
    is_honeypot: 'honeypot',
    cannot_sell_all: 'sell restriction',
    buy_tax: 'buy tax',
    sell_tax: 'sell tax',
    is_open_source: 'source code',
  },
  solana: {
    mintable: 'mint authority',
    freezable: 'freeze authority',
    balance_mutable_authority: 'balance authority',
    non_transferable: 'transferability',
  },
} as const;

export interface RiskVerdict {
  riskScore: number;
  isSafe: boolean;
  verified: boolean;
  risks: string[];
}

const yes = (v: unknown) => v === '1' || v === 1 || v === true;
const no = (v: unknown) => v === '0' || v === 0 || v === false;
const pct = (v: unknown): number | null => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};
const status = (v: unknown) =>
  v && typeof v === 'object' && 'status' in v ? (v as { status: unknown }).status : undefined;

export function assessRisk(security: SecurityResult, market: MarketFacts | null): RiskVerdict {
  const found: Array<{ points: number; text: string; neverSafe: boolean }> = [];
  const add: Add = (name, value = 0) => {
    const r = RISK_RULES[name];
    found.push({ points: r.points, text: r.reason(value), neverSafe: r.neverSafe });
  };

  if (security.ok) {
    const d = security.report.data;
    if (security.report.kind === 'evm') evmRules(d, add);
    else solanaRules(d, add);
    holderRules(d, add);
  }
  if (!market) add('noPair');
  else if (market.liquidityUsd === null) add('liquidityUnknown');
  else if (market.liquidityUsd <= 0) add('noLiquidity');
  else if (market.liquidityUsd < L.lowLiquidityUsd) add('lowLiquidity', market.liquidityUsd);

  let score = Math.min(
    100,
    found.reduce((s, f) => s + f.points, 0),
  );
  const risks = found.map((f) => f.text);
  const missing = security.ok ? missingCore(security.report) : [];
  const verified = security.ok && missing.length === 0;
  if (!security.ok) risks.unshift(security.reason);
  else if (missing.length) risks.unshift(`Security data incomplete: GoPlus did not report ${missing.join(', ')}`);
  if (!verified) score = Math.max(score, UNVERIFIED_FLOOR);
  else if (yes(security.report.data.trust_list) || yes(security.report.data.trusted_token)) score = Math.min(score, 10);
  const blocked = found.some((f) => f.neverSafe);
  return { riskScore: score, verified, risks, isSafe: verified && !blocked && score < SAFE_BELOW };
}

/** Core facts absent or blank (GoPlus sends "" for a tax it could not simulate). */
function missingCore(report: SecurityReport): string[] {
  const fields: Record<string, string> = CORE_FIELDS[report.kind];
  return Object.entries(fields)
    .filter(([field]) => {
      const v = report.data[field];
      return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
    })
    .map(([, what]) => what);
}

type Add = (rule: RiskRuleName, value?: number) => void;

function evmRules(d: Record<string, unknown>, add: Add) {
  if (yes(d.is_honeypot)) add('honeypot');
  else if (yes(d.cannot_buy)) add('cannotBuy');
  if (yes(d.cannot_sell_all)) add('cannotSellAll');
  if (yes(d.fake_token)) add('fakeToken');
  if (yes(d.is_airdrop_scam)) add('airdropScam');
  const sell = pct(d.sell_tax);
  const buy = pct(d.buy_tax);
  if (sell !== null && sell > L.blockingSellTax) add('blockingSellTax', sell);
  else if (sell !== null && sell > L.highSellTax) add('highSellTax', sell);
  if (buy !== null && buy > L.highBuyTax) add('highBuyTax', buy);
  if (no(d.is_open_source)) add('closedSource');
  if (yes(d.owner_change_balance)) add('ownerChangesBalances');
  if (yes(d.selfdestruct)) add('selfDestruct');
  if (yes(d.hidden_owner)) add('hiddenOwner');
  if (yes(d.can_take_back_ownership)) add('takeBackOwnership');
  if (yes(d.is_mintable)) add('ownerMints');
  if (yes(d.transfer_pausable)) add('pausable');
  if (yes(d.slippage_modifiable)) add('taxChangeable');
  if (yes(d.is_proxy)) add('proxy');
  if (yes(d.is_blacklisted)) add('blacklist');
}

function solanaRules(d: Record<string, unknown>, add: Add) {
  if (yes(d.non_transferable)) add('nonTransferable');
  if (yes(status(d.balance_mutable_authority))) add('authorityChangesBalances');
  if (yes(status(d.freezable))) add('freezable');
  if (yes(status(d.closable))) add('closable');
  if (yes(status(d.mintable))) add('authorityMints');
  const fee =
    d.transfer_fee && typeof d.transfer_fee === 'object'
      ? pct((d.transfer_fee as { fee_rate?: unknown }).fee_rate)
      : null;
  if (fee !== null && fee >= L.transferFee) add('transferFee', fee);
  if (Array.isArray(d.transfer_hook) ? d.transfer_hook.length > 0 : yes(d.transfer_hook)) add('transferHook');
}

function holderRules(d: Record<string, unknown>, add: Add) {
  const holders = Array.isArray(d.holders) ? (d.holders as Array<{ percent?: unknown; is_contract?: unknown }>) : [];
  const top = Math.max(
    0,
    pct(d.owner_percent) ?? 0,
    pct(d.creator_percent) ?? 0,
    ...holders.filter((h) => !yes(h.is_contract)).map((h) => pct(h.percent) ?? 0),
  );
  if (top > L.dominantHolder) add('dominantHolder', top);
  const holderCount = pct(d.holder_count);
  if (holderCount !== null && holderCount < L.fewHolders) add('fewHolders', holderCount);
  if (Array.isArray(d.lp_holders) && d.lp_holders.length > 0) {
    const lp = d.lp_holders as Array<{ percent?: unknown; is_locked?: unknown }>;
    const locked = lp.filter((h) => yes(h.is_locked)).reduce((s, h) => s + (pct(h.percent) ?? 0), 0);
    if (locked < L.lockedLiquidity) add('unlockedLiquidity', locked);
  }
}

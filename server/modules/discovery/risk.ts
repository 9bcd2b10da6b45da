import { SAFE_BELOW, UNVERIFIED_FLOOR } from '../../../shared/discovery';
import type { MarketFacts } from './dexscreener';
import type { SecurityReport, SecurityResult } from './goplus';

/**
 * The risk verdict, in one place. Points add up, capped at 100; `isSafe` means verified,
 * no critical finding and a score below {@link SAFE_BELOW}.
 *
 * | finding (GoPlus field)                               | points | critical |
 * |------------------------------------------------------|-------:|:--------:|
 * | honeypot (is_honeypot) / cannot buy (cannot_buy)     |    100 |   yes    |
 * | cannot sell all (cannot_sell_all)                    |     50 |   yes    |
 * | non-transferable (Solana non_transferable)           |    100 |   yes    |
 * | fake token (fake_token) / airdrop scam               |     60 |   yes    |
 * | sell tax > 50% / > 10% (sell_tax)                    |  50/30 | >50% yes |
 * | buy tax > 10% (buy_tax; Solana transfer_fee)         |     20 |          |
 * | owner can change balances (owner_change_balance,     |     30 |          |
 * |   Solana balance_mutable_authority)                  |        |          |
 * | self-destruct (selfdestruct)                         |     30 |          |
 * | source not verified (is_open_source = 0)             |     35 |          |
 * | freezable (Solana freezable)                         |     25 |          |
 * | hidden owner / can take back ownership               |  20/20 |          |
 * | closable (Solana closable)                           |     20 |          |
 * | mintable (is_mintable, Solana mintable)              |     15 |          |
 * | transfers pausable / slippage modifiable             |  15/15 |          |
 * | transfer hook (Solana transfer_hook)                 |     15 |          |
 * | proxy contract / blacklist                           |  10/10 |          |
 * | one holder owns > 50% (holders[].percent, owner/creator) | 20 |          |
 * | less than half the LP locked (lp_holders[].is_locked)|     15 |          |
 * | fewer than 50 holders (holder_count)                 |     10 |          |
 * | liquidity < $1,000 (DexScreener)                     |     15 |          |
 * | liquidity not reported yet (young pair)              |     10 |          |
 * | no trading pair yet (DexScreener)                    |     10 |          |
 * | security check unavailable (any GoPlus failure)      |  floor 50, never safe |
 * | a core field missing (honeypot, taxes, …)            |  floor 50, never safe |
 *
 * Optional fields GoPlus leaves out add nothing. The core fields ({@link CORE_FIELDS}: honeypot,
 * taxes, sell restrictions, source; on Solana the authorities) are what "safe" rests on: when
 * any is missing or blank the token is unverified like a failed check (floor 50, never safe),
 * and the risks say which facts are missing. A token on GoPlus' trust list is capped at 10.
 */

export { UNVERIFIED_FLOOR };

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
  const found: Array<{ points: number; text: string; critical?: boolean }> = [];
  const add = (points: number, text: string, critical = false) => found.push({ points, text, critical });

  if (security.ok) {
    const d = security.report.data;
    if (security.report.kind === 'evm') evmRules(d, add);
    else solanaRules(d, add);
    holderRules(d, add);
  }
  if (!market) add(10, 'No trading pair found yet');
  else if (market.liquidityUsd === null) add(10, 'Liquidity not reported yet');
  else if (market.liquidityUsd < 1000) add(15, `Very low liquidity ($${Math.round(market.liquidityUsd)})`);

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
  const critical = found.some((f) => f.critical);
  return { riskScore: score, verified, risks, isSafe: verified && !critical && score < SAFE_BELOW };
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

type Add = (points: number, text: string, critical?: boolean) => void;

function evmRules(d: Record<string, unknown>, add: Add) {
  if (yes(d.is_honeypot)) add(100, 'Honeypot: buyers cannot sell', true);
  else if (yes(d.cannot_buy)) add(100, 'Cannot be bought', true);
  if (yes(d.cannot_sell_all)) add(50, 'Holders cannot sell all their tokens', true);
  if (yes(d.fake_token)) add(60, 'Impersonates another token', true);
  if (yes(d.is_airdrop_scam)) add(60, 'Airdrop scam', true);
  const sell = pct(d.sell_tax);
  const buy = pct(d.buy_tax);
  if (sell !== null && sell > 0.5) add(50, `Sell tax ${Math.round(sell * 100)}%`, true);
  else if (sell !== null && sell > 0.1) add(30, `High sell tax ${Math.round(sell * 100)}%`);
  if (buy !== null && buy > 0.1) add(20, `High buy tax ${Math.round(buy * 100)}%`);
  if (no(d.is_open_source)) add(35, 'Contract source code is not verified');
  if (yes(d.owner_change_balance)) add(30, 'Owner can change balances');
  if (yes(d.selfdestruct)) add(30, 'Contract can self-destruct');
  if (yes(d.hidden_owner)) add(20, 'Hidden owner');
  if (yes(d.can_take_back_ownership)) add(20, 'Ownership can be taken back');
  if (yes(d.is_mintable)) add(15, 'Owner can mint new tokens');
  if (yes(d.transfer_pausable)) add(15, 'Transfers can be paused');
  if (yes(d.slippage_modifiable)) add(15, 'Tax can be changed by the owner');
  if (yes(d.is_proxy)) add(10, 'Upgradeable proxy contract');
  if (yes(d.is_blacklisted)) add(10, 'Owner can blacklist addresses');
}

function solanaRules(d: Record<string, unknown>, add: Add) {
  if (yes(d.non_transferable)) add(100, 'Token cannot be transferred', true);
  if (yes(status(d.balance_mutable_authority))) add(30, 'Authority can change balances');
  if (yes(status(d.freezable))) add(25, 'Authority can freeze accounts');
  if (yes(status(d.closable))) add(20, 'Authority can close the token');
  if (yes(status(d.mintable))) add(15, 'Authority can mint new tokens');
  const fee =
    d.transfer_fee && typeof d.transfer_fee === 'object'
      ? pct((d.transfer_fee as { fee_rate?: unknown }).fee_rate)
      : null;
  if (fee !== null && fee > 0.1) add(20, `Transfer fee ${Math.round(fee * 100)}%`);
  if (Array.isArray(d.transfer_hook) ? d.transfer_hook.length > 0 : yes(d.transfer_hook))
    add(15, 'Has a transfer hook');
}

function holderRules(d: Record<string, unknown>, add: Add) {
  const holders = Array.isArray(d.holders) ? (d.holders as Array<{ percent?: unknown; is_contract?: unknown }>) : [];
  const top = Math.max(
    0,
    pct(d.owner_percent) ?? 0,
    pct(d.creator_percent) ?? 0,
    ...holders.filter((h) => !yes(h.is_contract)).map((h) => pct(h.percent) ?? 0),
  );
  if (top > 0.5) add(20, `One holder owns ${Math.round(top * 100)}% of the supply`);
  const holderCount = pct(d.holder_count);
  if (holderCount !== null && holderCount < 50) add(10, `Only ${holderCount} holders`);
  if (Array.isArray(d.lp_holders) && d.lp_holders.length > 0) {
    const lp = d.lp_holders as Array<{ percent?: unknown; is_locked?: unknown }>;
    const locked = lp.filter((h) => yes(h.is_locked)).reduce((s, h) => s + (pct(h.percent) ?? 0), 0);
    if (locked < 0.5) add(15, `Only ${Math.round(locked * 100)}% of liquidity is locked`);
  }
}

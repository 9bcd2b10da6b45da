import { SAFE_BELOW, UNVERIFIED_FLOOR } from './discovery';

/**
 * Every risk rule, in one place: the server scores tokens with it (server/modules/discovery/risk.ts)
 * and the page explains the score from it, so the two cannot disagree.
 *
 * `points` add up (capped at 100); a `neverSafe` finding makes the token "risky" whatever its
 * score (GoPlus' trust list caps the score, never this). `help` is the rule in plain words for the
 * page; `reason` is what the token's own list of findings says.
 */
export interface RiskRule {
  points: number;
  neverSafe: boolean;
  help: string;
  reason: (value: number) => string;
}

/** The limits the rules compare against (fractions for taxes and shares, dollars for liquidity). */
export const RISK_LIMITS = {
  /** A sell tax above this blocks selling in all but name. */
  blockingSellTax: 0.5,
  highSellTax: 0.1,
  highBuyTax: 0.1,
  /** A Solana transfer fee at or above this is taken from every transfer, sells included. */
  transferFee: 0.1,
  lowLiquidityUsd: 1000,
  /** One holder owning more than this share can dump on everyone else. */
  dominantHolder: 0.5,
  /** Less than this share of the pool locked: the liquidity can be pulled. */
  lockedLiquidity: 0.5,
  fewHolders: 50,
} as const;

const L = RISK_LIMITS;
const pct = (fraction: number) => `${Math.round(fraction * 100)}%`;
const fixed = (text: string) => () => text;
const rule = (points: number, help: string, reason: RiskRule['reason'] = fixed(help), neverSafe = false): RiskRule => ({
  points,
  neverSafe,
  help,
  reason,
});
const neverSafe = (points: number, help: string, reason: RiskRule['reason'] = fixed(help)) =>
  rule(points, help, reason, true);

export const RISK_RULES = {
  // Trading (GoPlus simulates a buy and a sell)
  honeypot: neverSafe(100, 'Honeypot: buyers cannot sell'),
  cannotBuy: neverSafe(100, 'Cannot be bought'),
  cannotSellAll: neverSafe(50, 'Holders cannot sell all their tokens'),
  fakeToken: neverSafe(60, 'Impersonates another token'),
  airdropScam: neverSafe(60, 'Airdrop scam'),
  nonTransferable: neverSafe(100, 'Token cannot be transferred'),
  blockingSellTax: neverSafe(50, `Sell tax over ${pct(L.blockingSellTax)}`, (v) => `Sell tax ${pct(v)}`),
  transferFee: neverSafe(30, `Transfer fee of ${pct(L.transferFee)} or more`, (v) => `Transfer fee ${pct(v)}`),
  highSellTax: rule(30, `Sell tax over ${pct(L.highSellTax)}`, (v) => `High sell tax ${pct(v)}`),
  highBuyTax: rule(20, `Buy tax over ${pct(L.highBuyTax)}`, (v) => `High buy tax ${pct(v)}`),
  // Market (DexScreener): a token nobody can trade, or whose pool holds nothing, is never safe.
  noPair: neverSafe(SAFE_BELOW, 'No trading pair found yet'),
  noLiquidity: neverSafe(SAFE_BELOW, 'No liquidity in its trading pairs'),
  liquidityUnknown: neverSafe(SAFE_BELOW, 'Liquidity not reported yet'),
  lowLiquidity: rule(
    15,
    `Liquidity under $${L.lowLiquidityUsd.toLocaleString('en-US')}`,
    (v) => `Very low liquidity ($${Math.round(v)})`,
  ),
  // Contract and owner powers
  closedSource: rule(35, 'Contract source code is not verified'),
  ownerChangesBalances: rule(30, 'Owner can change balances'),
  authorityChangesBalances: rule(30, 'Authority can change balances'),
  selfDestruct: rule(30, 'Contract can self-destruct'),
  freezable: rule(25, 'Authority can freeze accounts'),
  hiddenOwner: rule(20, 'Hidden owner'),
  takeBackOwnership: rule(20, 'Ownership can be taken back'),
  closable: rule(20, 'Authority can close the token'),
  ownerMints: rule(15, 'Owner can mint new tokens'),
  authorityMints: rule(15, 'Authority can mint new tokens'),
  pausable: rule(15, 'Transfers can be paused'),
  taxChangeable: rule(15, 'Tax can be changed by the owner'),
  transferHook: rule(15, 'Has a transfer hook'),
  proxy: rule(10, 'Upgradeable proxy contract'),
  blacklist: rule(10, 'Owner can blacklist addresses'),
  // Holders
  dominantHolder: rule(
    20,
    `One holder owns more than ${pct(L.dominantHolder)} of the supply`,
    (v) => `One holder owns ${pct(v)} of the supply`,
  ),
  unlockedLiquidity: rule(
    15,
    `Less than ${pct(L.lockedLiquidity)} of the liquidity is locked`,
    (v) => `Only ${pct(v)} of liquidity is locked`,
  ),
  fewHolders: rule(10, `Fewer than ${L.fewHolders} holders`, (v) => `Only ${v} holders`),
} satisfies Record<string, RiskRule>;

export type RiskRuleName = keyof typeof RISK_RULES;

/** The verdicts in plain words, from the same numbers the server uses. */
export const VERDICT_RULES = {
  safe: `Checked: no “never safe” finding and a score under ${SAFE_BELOW}.`,
  risky: `Checked: a “never safe” finding or a score of ${SAFE_BELOW} or more.`,
  unverified: `The security check failed or did not report a core fact (honeypot, taxes, sell limits, source; on Solana the authorities). Unknown is not safe: these score at least ${UNVERIFIED_FLOOR}.`,
} as const;

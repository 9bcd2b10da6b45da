import { describe, expect, it } from 'vitest';
import { hashOf } from '../../server/demo/serve';
import { solanaSecurity } from '../../server/demo/goplus';
import type { FakeToken } from '../../server/demo/dexscreener';
import { createTestApp, signUp } from '../helpers/app';
import { scanFinished, startFakes } from '../helpers/discovery';

describe('verdicts of tokens from the fake upstreams', async () => {
  const fakes = await startFakes({ dex: { newPerCall: 0 } });
  const app = await createTestApp(fakes.env);
  const { caller } = await signUp(app);

  /** Mints Solana tokens until one fits; the fakes derive every trait from the address. */
  function mintUntil(fits: (t: FakeToken) => boolean): FakeToken {
    for (let i = 0; i < 5000; i++) {
      const [t] = fakes.dex.mint(1, 'solana');
      if (fits(t!)) return t!;
    }
    throw new Error('the fake minted no such token');
  }
  // The fake GoPlus' clean Solana bucket (server/demo/goplus.ts): nothing but the market speaks against it.
  const clean = (t: FakeToken) => hashOf(t.address) % 100 >= 45;
  const feeRate = (t: FakeToken) =>
    (solanaSecurity(t.address).transfer_fee as { fee_rate?: string } | undefined)?.fee_rate;

  async function scanOne(t: FakeToken) {
    const { scanId } = await caller.discovery.trigger({ profileUrl: `https://dexscreener.com/solana/${t.address}` });
    await scanFinished(app, scanId);
    const { tokens } = await caller.discovery.scanTokens({ scanId });
    expect(tokens).toHaveLength(1);
    return tokens[0]!.token;
  }

  it('a clean contract with no trading pair is risky, and says there is no pair', async () => {
    const token = await scanOne(mintUntil((t) => t.unlisted && clean(t)));
    expect(token).toMatchObject({ name: 'Unnamed token', verified: true, verdict: 'risky', isSafe: false });
    expect(token.risks).toEqual(['No trading pair found yet']);
  });

  it('a 25% transfer fee makes a traded token risky, and says so', async () => {
    const token = await scanOne(
      mintUntil((t) => !t.unlisted && !t.young && t.liquidityUsd >= 1000 && feeRate(t) === '0.25'),
    );
    expect(token).toMatchObject({ verified: true, verdict: 'risky', isSafe: false });
    expect(token.risks).toContain('Transfer fee 25%');
  });
});

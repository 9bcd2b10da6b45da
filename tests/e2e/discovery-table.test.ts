import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { Token } from '../../shared/discovery';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { scanFinished, startFakes } from '../helpers/discovery';
import { waitFor } from '../helpers/wait';

/** Descending by `value`, tokens without one last; ties keep the page's order (newest discovered first). */
function byDesc(tokens: Token[], value: (t: Token) => number | null) {
  const known = tokens.filter((t) => value(t) !== null);
  const unknown = tokens.filter((t) => value(t) === null);
  return [...known.sort((a, b) => value(b)! - value(a)!), ...unknown].map((t) => t.address);
}

describeInBrowser('discovery table in chromium', async () => {
  const fakes = await startFakes({ dex: { newPerCall: 0 } });
  const app = await createTestApp(fakes.env);
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  const rows = (page: Page) =>
    page.locator('[data-testid="token-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-address')));
  const query = (page: Page) => Object.fromEntries(new URL(page.url()).searchParams);
  /** Waits until the table shows exactly these addresses, in this order. */
  const expectRows = (page: Page, addresses: string[], what: string) =>
    waitFor(async () => JSON.stringify(await rows(page)) === JSON.stringify(addresses), { what, timeoutMs: 10_000 });

  it('sorts by age, liquidity, volume and verdict; filters by chain and verdict; searches; keeps chain and sort in the URL', async () => {
    fakes.dex.mint(6, 'solana');
    fakes.dex.mint(8);
    const { scanId } = await app.discovery.trigger('auto', { maxTokens: 20 });
    await scanFinished(app, scanId);
    const all = (await app.discovery.recent(200, undefined)).tokens;
    const solana = all.filter((t) => t.chain === 'solana');
    expect(solana.length).toBeGreaterThanOrEqual(6);

    const { page, problems } = await signedInPage(browser, app, server, { name: 'Dex' });
    await page.goto('/discovery?view=table&chain=solana&sort=liquidity');
    await expectLive(page);
    await page.getByTestId('discovery-table').waitFor();
    await expectRows(
      page,
      byDesc(solana, (t) => t.liquidityUsd),
      'solana tokens, deepest pool first',
    );
    expect(await page.getByLabel('Chain filter').inputValue()).toBe('solana');

    await page.getByTestId('sort-liquidity').click();
    expect(query(page)).toMatchObject({ chain: 'solana', sort: 'liquidity', dir: 'asc' });
    await expectRows(
      page,
      byDesc(solana, (t) => (t.liquidityUsd === null ? null : -t.liquidityUsd)),
      'shallowest pool first',
    );

    await page.getByTestId('sort-volume').click();
    expect(query(page)).toMatchObject({ sort: 'volume', dir: 'desc' });
    await expectRows(
      page,
      byDesc(solana, (t) => t.volume24hUsd),
      'busiest first',
    );

    await page.getByTestId('sort-age').click();
    expect(query(page)).toMatchObject({ sort: 'age', dir: 'asc' });
    await expectRows(
      page,
      byDesc(solana, (t) => t.pairCreatedAt?.getTime() ?? null),
      'youngest pair first',
    );

    // A reload (or a shared link) shows the same list.
    await page.reload();
    await expectLive(page);
    await expectRows(
      page,
      byDesc(solana, (t) => t.pairCreatedAt?.getTime() ?? null),
      'the same list after a reload',
    );

    await page.getByLabel('Chain filter').selectOption('');
    expect(query(page).chain).toBeUndefined();
    await page.getByTestId('sort-verdict').click();
    const rank = { safe: 0, unverified: 1, risky: 2 } as const;
    await expectRows(
      page,
      byDesc(all, (t) => -(rank[t.verdict] * 1000 + t.riskScore)),
      'every chain, safest first',
    );

    await page.getByLabel('Verdict filter').selectOption('risky');
    const risky = all.filter((t) => t.verdict === 'risky');
    expect(risky.length).toBeGreaterThan(0);
    await expectRows(
      page,
      byDesc(risky, (t) => -t.riskScore),
      'risky tokens only',
    );

    await page.getByLabel('Verdict filter').selectOption('');
    const target = all.at(-1)!;
    await page.getByTestId('token-search').fill(target.address.slice(4, 20).toUpperCase());
    await expectRows(page, [target.address], 'the token whose address was typed');
    const word = target.name.split(' ')[0]!.toLowerCase();
    await page.getByTestId('token-search').fill(word);
    await expectRows(
      page,
      byDesc(
        all.filter((t) => `${t.name} ${t.symbol} ${t.address}`.toLowerCase().includes(word)),
        (t) => -(rank[t.verdict] * 1000 + t.riskScore),
      ),
      'tokens whose name has the typed word',
    );
    expect(problems).toEqual([]);
  });
});

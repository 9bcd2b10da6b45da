import { expect, vi } from 'vitest';
import { startFakeVinted, item, type FakeVinted, type FakeVintedOptions } from '../../server/demo/vinted';
import type { VaultEvent } from '../../shared/vault';
import { wsClient } from './clients';
import { skipResumePoint } from './resume-point';
import { afterThis } from './cleanup';

/** A fake Vinted (web and API hosts) closed after the file. */
export async function startVinted(opts: FakeVintedOptions = {}): Promise<FakeVinted> {
  const fake = await startFakeVinted(opts);
  afterThis(() => fake.close());
  return fake;
}

/** Every token value in a pasted Cookie header, to search for at rest and in answers. */
export function secretValues(cookie: string): string[] {
  return cookie
    .split(';')
    .map((p) => p.split('=')[1]!.trim())
    .filter((v) => v.length >= 16);
}

/** The figures the analysis should report, computed from the fake's own catalogue generator. */
export function expectedPrices(query: string, total: number, maxItems: number) {
  const prices = Array.from({ length: Math.min(total, maxItems) }, (_, i) =>
    Number(item(query.toLowerCase(), i).price.amount),
  ).sort((a, b) => a - b);
  const n = prices.length;
  const median = n % 2 ? prices[(n - 1) / 2]! : (prices[n / 2 - 1]! + prices[n / 2]!) / 2;
  return { count: n, min: prices[0], max: prices[n - 1], median: Math.round(median * 100) / 100 };
}

/** An admin's open page: one WebSocket subscribed to vault.events, recording what it gets. */
export async function watchVault(baseUrl: string, token: string) {
  const { client, ws } = wsClient(baseUrl, token);
  const received: VaultEvent[] = [];
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  const sub = client.vault.events.subscribe(undefined, {
    onStarted: () => started(),
    onData: skipResumePoint((e) => void received.push((e as { data: VaultEvent }).data)),
  });
  await ready;
  afterThis(() => {
    sub.unsubscribe();
    ws.close();
  });
  return {
    received,
    async until(match: (e: VaultEvent) => boolean) {
      await vi.waitFor(() => expect(received.some(match)).toBe(true), { timeout: 10_000, interval: 20 });
      return received.find(match)!;
    },
  };
}

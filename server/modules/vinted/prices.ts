import type { AnalyzeOutput } from '../../../shared/vinted';
import type { CatalogueItem } from './catalogue';

const BUCKETS = 10;
const SAMPLE = 12;

/** Price figures over the items in the most common currency (mixing currencies would lie). */
export function summarise(query: string, items: CatalogueItem[], pages: number, totalEntries: number): AnalyzeOutput {
  const priced = items
    .map((i) => ({ item: i, price: Number(i.price?.amount), currency: i.price?.currency_code ?? '' }))
    .filter((p) => Number.isFinite(p.price) && p.price >= 0 && p.currency);
  const byCurrency = new Map<string, number>();
  for (const p of priced) byCurrency.set(p.currency, (byCurrency.get(p.currency) ?? 0) + 1);
  const currency = [...byCurrency.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const kept = priced.filter((p) => p.currency === currency);
  const prices = kept.map((p) => p.price).sort((a, b) => a - b);
  const n = prices.length;
  if (n === 0)
    return {
      query,
      count: 0,
      min: null,
      median: null,
      max: null,
      currency: null,
      sample: [],
      histogram: [],
      pages,
      totalEntries,
    };
  const median = n % 2 ? prices[(n - 1) / 2]! : (prices[n / 2 - 1]! + prices[n / 2]!) / 2;
  const min = prices[0]!;
  const max = prices[n - 1]!;
  const width = (max - min) / BUCKETS || 1;
  const histogram = Array.from({ length: BUCKETS }, (_, b) => ({
    from: round(min + b * width),
    to: round(min + (b + 1) * width),
    count: 0,
  }));
  for (const p of prices) histogram[Math.min(BUCKETS - 1, Math.floor((p - min) / width))]!.count++;
  const sample = kept.slice(0, SAMPLE).map(({ item, price }) => ({
    id: item.id,
    title: item.title,
    price,
    currency: currency!,
    brand: item.brand_title ?? null,
    size: item.size_title ?? null,
    url: item.url ?? null,
  }));
  return { query, count: n, min, median: round(median), max, currency, sample, histogram, pages, totalEntries };
}

const round = (v: number) => Math.round(v * 100) / 100;

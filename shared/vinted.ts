import { z } from 'zod';
import { text } from './text';

/** `vinted.analyze`: prices of a catalogue search, read with the vault's Vinted session. */
export const ZAnalyzeInput = z.object({ query: text({ label: 'Searches', max: 100 }) });
export const ZPriceSample = z.object({
  id: z.number(),
  title: z.string(),
  price: z.number(),
  currency: z.string(),
  brand: z.string().nullable(),
  size: z.string().nullable(),
  url: z.string().nullable(),
});
export const ZAnalyzeOutput = z.object({
  query: z.string(),
  count: z.number(),
  min: z.number().nullable(),
  median: z.number().nullable(),
  max: z.number().nullable(),
  currency: z.string().nullable(),
  sample: z.array(ZPriceSample),
  /** Ten equal-width price buckets from min to max, for the page's histogram. */
  histogram: z.array(z.object({ from: z.number(), to: z.number(), count: z.number() })),
  pages: z.number(),
  totalEntries: z.number(),
});
export type AnalyzeOutput = z.infer<typeof ZAnalyzeOutput>;

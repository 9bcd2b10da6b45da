import { z } from 'zod';
import { idCursor } from './cursor';
import { ZSymbol, ZTimeframe } from './market';

/** Price alerts are checked on every forming update, RSI alerts on closed candles (RSI 14). */
export const ALERT_TYPES = ['price_above', 'price_below', 'rsi_above', 'rsi_below'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** Per user: a good many levels on many series, small enough to list in one page. */
export const MAX_ALERTS_PER_USER = 200;

const price = (side: string) => {
  const error = `The price to be ${side} must be a number above 0.`;
  return z.number({ error }).positive({ error }).max(1e12, { error: 'The price is at most 1,000,000,000,000.' });
};
const rsi = (side: string) => {
  const error = `The RSI level to be ${side} is a number from 0 to 100.`;
  return z.number({ error }).min(0, { error }).max(100, { error });
};

/** What makes an alert fire; "above" and "below" are strict (a price equal to the level does not fire it). */
export const ZAlertCondition = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('price_above'), value: price('above') }),
    z.object({ type: z.literal('price_below'), value: price('below') }),
    z.object({ type: z.literal('rsi_above'), value: rsi('above') }),
    z.object({ type: z.literal('rsi_below'), value: rsi('below') }),
  ],
  { error: 'Choose a condition: price above, price below, RSI above or RSI below.' },
);
export type AlertCondition = z.infer<typeof ZAlertCondition>;

export const ZAlertCreateInput = z.object({ symbol: ZSymbol, timeframe: ZTimeframe, condition: ZAlertCondition });
export type AlertCreateInput = z.infer<typeof ZAlertCreateInput>;

export const ZAlertIdInput = z.object({
  id: z
    .number({ error: 'Choose an alert by its id (a number).' })
    .int({ error: 'Choose an alert by its id (a whole number).' })
    .positive({ error: 'Choose an alert by its id (a number above 0).' })
    .max(Number.MAX_SAFE_INTEGER, { error: 'No such alert: its id is out of range.' }),
});

export const ZAlertsListInput = z
  .object({
    cursor: idCursor(),
    limit: z
      .number({ error: `The page size must be a whole number from 1 to ${MAX_ALERTS_PER_USER}.` })
      .int({ error: `The page size must be a whole number from 1 to ${MAX_ALERTS_PER_USER}.` })
      .min(1, { error: 'The page size is at least 1.' })
      .max(MAX_ALERTS_PER_USER, { error: `The page size is at most ${MAX_ALERTS_PER_USER}.` })
      .default(MAX_ALERTS_PER_USER),
  })
  .optional();

export const ZAlert = z.object({
  id: z.number(),
  symbol: z.string(),
  timeframe: ZTimeframe,
  condition: ZAlertCondition,
  state: z.enum(['armed', 'fired']),
  /** When it fired, and the price or RSI it fired at; null while armed. */
  firedAt: z.date().nullable(),
  firedValue: z.number().nullable(),
  createdAt: z.date(),
});
export type Alert = z.infer<typeof ZAlert>;
export const ZAlertsListOutput = z.object({ items: z.array(ZAlert), nextCursor: z.number().nullable() });

/** The inbox entry (feature `market`) written when an alert fires; `message` is what the toast says. */
export interface AlertFiredEvent {
  type: 'alert_fired';
  payload: { alert: Alert; message: string };
}

const LABELS: Record<AlertType, string> = {
  price_above: 'price above',
  price_below: 'price below',
  rsi_above: 'RSI above',
  rsi_below: 'RSI below',
};

/** "price above 97000", "RSI below 30": the condition in words (lists, toasts, the CLI). */
export const describeCondition = (c: AlertCondition) => `${LABELS[c.type]} ${c.value}`;

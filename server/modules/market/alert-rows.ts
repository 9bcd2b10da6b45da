import type { marketAlerts } from '../../db/schema';
import type { Alert } from '../../../shared/market-alerts';

export type AlertRow = typeof marketAlerts.$inferSelect;

export const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  symbol: r.symbol,
  timeframe: r.timeframe,
  condition: { type: r.type, value: r.value },
  state: r.firedAt === null ? 'armed' : 'fired',
  firedAt: r.firedAt,
  firedValue: r.firedValue,
  createdAt: r.createdAt,
});

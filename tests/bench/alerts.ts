/**
 * Market alerts on one series: the time a forming update takes to be checked against 100,000
 * armed alerts (the in-memory book every update goes through, server/modules/market/alert-book.ts),
 * beside what scanning every alert would cost. In process, no server, a second or two.
 * `npm run bench` prints it with the fan-out figures; BENCH_ALERTS sets the count.
 */
import { performance } from 'node:perf_hooks';
import { AlertBook, type ArmedAlert } from '../../server/modules/market/alert-book';
import { ALERT_TYPES } from '../../shared/market-alerts';

export interface AlertBenchResult {
  alerts: number;
  updates: number;
  /** Per forming update that crosses no alert (the usual case), and per update that fires some. */
  quietUs: number;
  crossingUs: number;
  fired: number;
  /** The same updates checked by scanning every alert. */
  scanUs: number;
  loadMs: number;
}

/** A deterministic spread of levels: price levels 1 % to 30 % away from 100 on either side, RSI 5–95. */
function alertsAround(n: number): ArmedAlert[] {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => {
    const type = ALERT_TYPES[i % 4]!;
    const away = 1 + rand() * 29;
    const value =
      type === 'price_above' ? 100 + away : type === 'price_below' ? 100 - away : type === 'rsi_above' ? 95 : 5;
    return { id: i + 1, userId: `u${i % 5000}`, symbol: 'BTCUSDT', timeframe: '1m', type, value };
  });
}

export function benchAlerts(n = Number(process.env.BENCH_ALERTS ?? 100_000)): AlertBenchResult {
  const alerts = alertsAround(n);
  const book = new AlertBook();
  const t0 = performance.now();
  book.load(alerts);
  const loadMs = performance.now() - t0;

  // Prices wobbling within 1 % of 100: they cross nothing.
  const UPDATES = 200_000;
  const prices = Float64Array.from({ length: UPDATES }, (_, i) => 100 + Math.sin(i / 50) * 0.9);
  let sink = 0;
  const q0 = performance.now();
  for (let i = 0; i < UPDATES; i++) sink += book.onPrice('BTCUSDT', '1m', prices[i]!).length;
  const quietUs = ((performance.now() - q0) * 1000) / UPDATES;

  // A rally one step at a time from 101 to 130: each update fires the levels it passes.
  const STEPS = 2_000;
  const c0 = performance.now();
  let fired = 0;
  for (let i = 1; i <= STEPS; i++) fired += book.onPrice('BTCUSDT', '1m', 101 + (29 * i) / STEPS).length;
  const crossingUs = ((performance.now() - c0) * 1000) / STEPS;

  // What the book saves: every alert looked at on each update.
  const SCANS = 200;
  const s0 = performance.now();
  for (let i = 0; i < SCANS; i++) {
    const p = prices[i]!;
    for (const a of alerts)
      if ((a.type === 'price_above' && p > a.value) || (a.type === 'price_below' && p < a.value)) sink++;
  }
  const scanUs = ((performance.now() - s0) * 1000) / SCANS;
  if (sink < 0) console.log(sink);
  return { alerts: n, updates: UPDATES, quietUs, crossingUs, fired, scanUs, loadMs };
}

export function alertsSection(r: AlertBenchResult): string {
  const us = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
  return [
    `### Market alerts: ${r.alerts.toLocaleString('en')} armed on one series`,
    '',
    '| per forming update | µs |',
    '| --- | --- |',
    `| crossing none (${r.updates.toLocaleString('en')} updates) | ${us(r.quietUs)} |`,
    `| crossing some (${r.fired.toLocaleString('en')} fired over a rally of 2,000 updates; the in-memory part, the database write is queued off the candle path) | ${us(r.crossingUs)} |`,
    `| scanning every alert instead | ${us(r.scanUs)} |`,
    '',
    `Loading the book: ${r.loadMs.toFixed(0)} ms.`,
  ].join('\n');
}

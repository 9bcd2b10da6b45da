/** The chat bench's figures as the table RESULTS.md holds: one row per offered rate and server. */
import type { Target } from './protocol';

export interface PgCost {
  xactCommit: number;
  tupInserted: number;
  tupFetched: number;
  tupReturned: number;
}
export interface StageResult {
  target: Target;
  rate: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  p50: number;
  p99: number;
  max: number;
  cpuUsPerMessage: number;
  /** Per message, the database's idle background (measured before the stages) taken off. */
  pg: PgCost;
  refused: Record<string, number>;
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

export function chatTable(results: StageResult[]): string {
  const lines = [
    '| offered/s | server | delivered/s | delivered / expected | latency p50 / p99 / max (ms) | server CPU per message (µs) | Postgres per message: commits / rows inserted / rows fetched / rows returned | sends refused |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const refused = Object.entries(r.refused).map(([k, v]) => `${v} ${k}`);
    lines.push(
      `| ${r.rate} | ${r.target} | ${f0(r.deliveredPerSec)} | ${r.delivered} / ${r.expected} | ${f1(r.p50)} / ${f1(r.p99)} / ${f1(r.max)} | ${f0(r.cpuUsPerMessage)} | ${f2(r.pg.xactCommit)} / ${f2(r.pg.tupInserted)} / ${f2(r.pg.tupFetched)} / ${f2(r.pg.tupReturned)} | ${refused.join(', ') || '0'} |`,
    );
  }
  return lines.join('\n');
}

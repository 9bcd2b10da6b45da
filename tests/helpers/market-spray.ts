import { TRPCClientError } from '@trpc/client';
import { wsClient } from './clients';

/**
 * What became of each subscription of a spray. A subscription is "started" before its stream
 * runs, so a refusal (budget, cap) comes after its start: `refused` is what counts.
 */
export interface SprayOutcome {
  started: Set<string>;
  refused: Map<string, { code: string | undefined; message: string }>;
  /** Candles received, per symbol. */
  events: Map<string, number>;
  /** Started and not refused (so far). */
  accepted(): string[];
  /** When the spray was sent (ms since epoch). */
  startedAt: number;
}

/**
 * One user opening `symbols.length / perSocket` sockets with `perSocket` `market.live`
 * subscriptions each, one symbol per subscription, all on 1m: the load that used to end every
 * instance. `urls` are used in turn, socket by socket (one instance, or a cluster's).
 */
export function sprayMarketLive(urls: string[], token: string, symbols: string[], perSocket = 100): SprayOutcome {
  const out: SprayOutcome = {
    started: new Set(),
    refused: new Map(),
    events: new Map(),
    accepted: () => [...out.started].filter((s) => !out.refused.has(s)),
    startedAt: Date.now(),
  };
  for (let i = 0; i * perSocket < symbols.length; i++) {
    const { client } = wsClient(urls[i % urls.length]!, token);
    for (const symbol of symbols.slice(i * perSocket, (i + 1) * perSocket)) {
      client.market.live.subscribe(
        { symbol, timeframe: '1m' },
        {
          onStarted: () => void out.started.add(symbol),
          onData: () => void out.events.set(symbol, (out.events.get(symbol) ?? 0) + 1),
          onError: (err) =>
            void out.refused.set(symbol, {
              code: err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined,
              message: err.message,
            }),
        },
      );
    }
  }
  return out;
}

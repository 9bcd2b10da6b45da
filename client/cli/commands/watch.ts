import type { Command } from '../command';
import { followSubscription, type StreamHandlers } from '../session';

/**
 * `watch <path> [json-input]`: prints each event of any subscription as a JSON line,
 * e.g. `watch system.notifications` or `watch market.live '{"symbol":"BTCUSDT","timeframe":"1m"}'`.
 * The path is checked by the server, which answers NOT_FOUND for an unknown one.
 */
export const watchCommand: Command = {
  name: 'watch',
  usage: 'watch <path> [json-input]   e.g. watch system.notifications',
  async run({ ctx, args, signal, print }) {
    const [path, rawInput] = args;
    if (!path) throw new Error('Name the subscription to watch, e.g. `watch system.notifications`.');
    let input: unknown;
    try {
      input = rawInput ? JSON.parse(rawInput) : undefined;
    } catch {
      throw new Error(`The input must be JSON, e.g. '{"symbol":"BTCUSDT"}'; got ${rawInput}`);
    }
    await followSubscription(
      ctx,
      signal,
      (api, handlers) => {
        const target = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], api) as {
          subscribe: (input: unknown, handlers: StreamHandlers) => { unsubscribe(): void };
        };
        return target.subscribe(input, handlers);
      },
      { onData: (event) => void print(event) },
    );
  },
};

import type { Command } from '../command';
import { wsApi } from '../session';

/**
 * `watch <path> [json-input]`: prints each event of any subscription as a JSON line,
 * e.g. `watch system.notifications` or `watch market.live '{"symbol":"BTCUSDT","timeframe":"1m"}'`.
 * The path is checked by the server, which answers NOT_FOUND for an unknown one.
 */
export const watchCommand: Command = {
  name: 'watch',
  usage: "watch <path> [json-input]   e.g. watch system.notifications",
  async run({ ctx, args, signal, print }) {
    const [path, rawInput] = args;
    if (!path) throw new Error('Name the subscription to watch, e.g. `watch system.notifications`.');
    let input: unknown;
    try {
      input = rawInput ? JSON.parse(rawInput) : undefined;
    } catch {
      throw new Error(`The input must be JSON, e.g. '{"symbol":"BTCUSDT"}'; got ${rawInput}`);
    }
    const { api, close } = wsApi(ctx);
    const target = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], api) as {
      subscribe: (input: unknown, opts: object) => { unsubscribe(): void };
    };
    await new Promise<void>((resolve, reject) => {
      const sub = target.subscribe(input, {
        onData: (event: unknown) => print(event),
        onError: (err: unknown) => reject(err),
        onComplete: () => resolve(),
      });
      signal.addEventListener('abort', () => {
        sub.unsubscribe();
        resolve();
      });
    }).finally(close);
  },
};

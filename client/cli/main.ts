import { parseArgs } from 'node:util';
import { TRPCClientError } from '@trpc/client';
import type { Command } from './command';
import { accountCommands } from './commands/account';
import { watchCommand } from './commands/watch';
import { marketCommand } from './commands/market';
import { discoveryCommand } from './commands/discovery';
import { vaultCommand } from './commands/vault';
import { adminCommand } from './commands/admin';
import { chatCommand } from './commands/chat';
import { collectionsCommand } from './commands/collections';
import { render, View } from './render';
import { DEFAULT_URL, loadContext, loginHint, parseTransport, unreachable, Unreachable } from './session';

// Each feature adds its commands here.
const commands: Command[] = [
  ...accountCommands,
  watchCommand,
  marketCommand,
  discoveryCommand,
  chatCommand,
  collectionsCommand,
  vaultCommand,
  adminCommand,
];

function usage() {
  return [
    `Usage: npm run cli -- <command> [options]   (--url http://host:port, default HUBCAST_URL or ${DEFAULT_URL})`,
    'Lists print as tables; add --json to any command for the raw JSON instead.',
    'Commands that follow a stream use one WebSocket; --transport sse uses server-sent events over HTTP instead.',
    '',
    ...commands.map((c) => `  ${c.usage}`),
  ].join('\n');
}

// `… --json | head` closes our stdout early: that is the reader being done, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') console.error(`Could not write the output: ${err.message}`);
  process.exit(err.code === 'EPIPE' ? 0 : 1);
});

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    strict: false,
    options: {
      url: { type: 'string' },
      transport: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
      message: { type: 'string' },
      json: { type: 'boolean' },
      everywhere: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [name, ...rest] = positionals;
  if (!name || values.help) return console.log(usage());
  // A feature command may be a group: `discovery trigger` resolves to the command named "discovery".
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`Unknown command "${name}".\n\n${usage()}`);
    process.exit(2);
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const transport = parseTransport(values.transport);
  const ctx = { ...(await loadContext(typeof values.url === 'string' ? values.url : undefined)), transport };
  url = ctx.url;
  const result = await command.run({
    ctx,
    args: rest,
    flags: values,
    signal: abort.signal,
    print: (v) => console.log(JSON.stringify(v)),
  });
  if (result !== undefined) {
    const raw = result instanceof View ? result.json : result;
    console.log(values.json ? JSON.stringify(raw, null, 2) : render(result));
  }
  process.exit(process.exitCode ?? 0);
}

let url = DEFAULT_URL;

main().catch((err: unknown) => {
  const down = err instanceof Unreachable ? err : unreachable(err, url);
  if (down) console.error(down.message);
  else if (err instanceof TRPCClientError && err.data?.code === 'UNAUTHORIZED')
    console.error(`${err.message}\nSign in with: ${loginHint(url)}`);
  else if (err instanceof TRPCClientError) console.error(`${err.data?.code ?? 'ERROR'}: ${err.message}`);
  else console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

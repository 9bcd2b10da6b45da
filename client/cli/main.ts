import { parseArgs } from 'node:util';
import { TRPCClientError } from '@trpc/client';
import type { Command } from './command';
import { accountCommands } from './commands/account';
import { watchCommand } from './commands/watch';
import { marketCommand } from './commands/market';
import { discoveryCommand } from './commands/discovery';
import { vaultCommand } from './commands/vault';
import { chatCommand } from './commands/chat';
import { collectionsCommand } from './commands/collections';
import { loadContext } from './session';

// Each feature adds its commands here.
const commands: Command[] = [...accountCommands, watchCommand, marketCommand, discoveryCommand, chatCommand, collectionsCommand, vaultCommand];

function usage() {
  return ['Usage: npm run cli -- <command> [options]   (--url http://host:port, default HUBCAST_URL or http://127.0.0.1:3000)', '', ...commands.map((c) => `  ${c.usage}`)].join('\n');
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    strict: false,
    options: {
      url: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
      message: { type: 'string' },
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
  const result = await command.run({
    ctx: await loadContext(typeof values.url === 'string' ? values.url : undefined),
    args: rest,
    flags: values,
    signal: abort.signal,
    print: (v) => console.log(JSON.stringify(v)),
  });
  if (result !== undefined) console.log(JSON.stringify(result, null, 2));
  process.exit(process.exitCode ?? 0);
}

main().catch((err: unknown) => {
  if (err instanceof TRPCClientError) console.error(`${err.data?.code ?? 'ERROR'}: ${err.message}`);
  else console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

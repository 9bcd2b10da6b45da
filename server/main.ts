import { ConfigError, loadConfig, type Config } from './config';
import { createApp } from './app';
import { startDemoUpstreams, type FakeUpstream } from './demo';
import { startServer } from './http';
import { StartupError } from './db/connect';

function configOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

let config = configOrExit(process.env);
let demo: FakeUpstream | null = null;
if (config.UPSTREAMS === 'demo') {
  demo = await startDemoUpstreams();
  config = configOrExit({ ...process.env, ...demo.env });
}

// A database that never came up has been reported line by line (db/connect.ts): exit 1, no stack.
const app = await createApp(config).catch((err: unknown) => {
  if (!(err instanceof StartupError)) throw err;
  process.exit(1);
});
await demo?.seed?.(app);
const server = await startServer(app);
app.log.info(`Hubcast on ${server.url} (database: ${app.database.kind}, upstreams: ${config.UPSTREAMS})`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  setTimeout(() => process.exit(1), 10_000).unref();
  await server.close();
  await app.close();
  await demo?.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

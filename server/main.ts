import { ConfigError, loadConfig } from './config';
import { createApp } from './app';
import { startServer } from './http';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const app = await createApp(config);
const server = await startServer(app);
app.log.info(`Hubcast on ${server.url} (database: ${app.database.kind}, upstreams: ${config.UPSTREAMS})`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await server.close();
  await app.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

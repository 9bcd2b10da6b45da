import type { Command } from '../command';
import { view } from '../render';
import { withDatabase } from './vault';

/**
 * `admin grant|revoke <email>`: runs here against the database, with the server's environment
 * (DATABASE_URL or DATA_DIR), like `vault rekey`. On Postgres the sessions a revoke ends are
 * announced on the cluster's bus, so running instances end their open subscriptions too.
 */
export const adminCommand: Command = {
  name: 'admin',
  usage: 'admin grant <email> | revoke <email>   (reads DATABASE_URL or DATA_DIR here, like the server)',
  async run({ ctx, args }) {
    const [sub, email] = args;
    if ((sub !== 'grant' && sub !== 'revoke') || !email)
      throw new Error('Usage: npm run cli -- admin grant <email> | admin revoke <email>');
    return withDatabase(ctx, async ({ config, database }) => {
      const { setRole } = await import('../../../server/modules/auth/roles');
      const { AppError } = await import('../../../server/errors');
      try {
        const change = await setRole(database.db, email, sub === 'grant' ? 'admin' : 'user');
        if (change.endedSessions.length) await announce(config, database, change.endedSessions);
        const listed =
          sub === 'revoke' && config.ADMIN_EMAILS.includes(change.email)
            ? ' It is still in ADMIN_EMAILS: remove it there, or a Google sign-in makes it admin again.'
            : '';
        const text = !change.changed
          ? `${change.email} ${sub === 'grant' ? 'is already' : 'is not'} an administrator: nothing changed.`
          : sub === 'grant'
            ? `${change.email} is now an administrator.`
            : `${change.email} is no longer an administrator; ${change.endedSessions.length} session(s) signed out.${listed}`;
        return view(change, text);
      } catch (err) {
        if (err instanceof AppError) throw new Error(err.message, { cause: err });
        throw err;
      }
    });
  },
};

async function announce(
  config: import('../../../server/config').Config,
  database: import('../../../server/db/client').Database,
  sessionIds: string[],
) {
  if (database.kind !== 'postgres') return; // embedded: no server is running (withDatabase checked)
  const { createBus } = await import('../../../server/cluster/create-bus');
  const { createLogger } = await import('../../../server/log');
  const { sessionsRevoked } = await import('../../../server/modules/auth/session-watch');
  const bus = await createBus(config, database, `cli-${process.pid}`, createLogger('error'));
  bus.publish(sessionsRevoked, { sessionIds });
  await bus.close();
}

import { sql as dsql } from 'drizzle-orm';
import postgres from 'postgres';
import type { Logger } from '../log';
import type { BusTx } from '../realtime/bus';
import { failureReporter, guarded } from '../guarded';
import { NotifyQueue, REF, notifyRuns, notifyStatement } from './notify-queue';
import { CrossInstanceBus } from './wire';

/**
 * The bus over Postgres LISTEN/NOTIFY: one listening connection per instance (never per client)
 * and one publishing connection, so this instance's notifications leave in publish order.
 * Large messages are stored in bus_payloads and the notification carries the row id.
 *
 * A transaction's events are notified inside it, so they reach listeners if and only if it
 * commits, in commit order (a listener never sees an event that a replay could not find).
 * Postgres commits notifying transactions one at a time across their WAL flush, so the hot
 * writers batch (chat.send's group commit) and each transaction notifies in one statement.
 * Publishes outside a transaction leave from the publishing connection, which skips the
 * flush (synchronous_commit off: a notification does not survive a database crash anyway),
 * batched while a statement runs (notify-queue.ts).
 */
export class PostgresBus extends CrossInstanceBus {
  private readonly sql: postgres.Sql;
  private readonly notifications: NotifyQueue;
  /**
   * Our own listening connection rather than `sql.listen`: postgres.js re-listens once after a
   * drop and gives up silently if the database is still down, which left an instance deaf (its
   * own stored events included) after an outage. This one retries until it listens again.
   */
  private readonly listener: postgres.Sql;
  private listened = false;
  private relistenTimer: NodeJS.Timeout | null = null;

  private constructor(
    url: string,
    private readonly channel: string,
    instanceId: string,
    private readonly log: Logger,
  ) {
    super('postgres', instanceId, failureReporter(log, 'bus handler'));
    this.sql = postgres(url, { max: 1, onnotice: () => {}, connection: { synchronous_commit: 'off' } });
    this.notifications = new NotifyQueue(this.sql, channel);
    this.listener = postgres(url, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      // postgres.js takes these two (its own listen uses them) but leaves them out of its types.
      ...({
        // Called from inside postgres.js's socket handling: a throw there would end the process.
        onnotify: guarded(log, 'bus notification', (ch: string, text: string) => {
          if (ch === this.channel)
            this.receive(text.startsWith(REF) ? this.readBack(Number(text.slice(REF.length))) : text);
        }),
        onclose: guarded(log, 'bus listener close', () => this.relistenSoon(0)),
      } as object),
    });
  }

  private async listen(): Promise<void> {
    await this.listener.unsafe(`listen "${this.channel.replace(/"/g, '""')}"`);
    if (this.listened) {
      this.log.warn(
        'bus listener reconnected: live events sent while it was down were missed; clients are told to resume from their last id',
      );
      this.listenerReconnected();
    }
    this.listened = true;
  }

  /** Listens again after a drop, retrying every second while the database is away. */
  private relistenSoon(delayMs: number) {
    if (this.closed || this.relistenTimer) return;
    this.relistenTimer = setTimeout(
      guarded(this.log, 'bus re-listen', () => {
        this.relistenTimer = null;
        if (this.closed) return;
        this.listen().catch(() => this.relistenSoon(1_000));
      }),
      delayMs,
    );
    this.relistenTimer.unref();
  }

  static async start(opts: { url: string; channel: string; instanceId: string; log: Logger }): Promise<PostgresBus> {
    const bus = new PostgresBus(opts.url, opts.channel, opts.instanceId, opts.log.child({ component: 'bus' }));
    await bus.listen();
    return bus;
  }

  private async readBack(id: number): Promise<string | null> {
    const [row] = await this.sql<{ payload: string }[]>`select payload from bus_payloads where id = ${id}`;
    if (!row) this.log.warn({ id }, 'bus payload already pruned');
    return row?.payload ?? null;
  }

  protected send(text: string) {
    this.notifications
      .notify(text)
      .catch((err: unknown) => this.log.warn({ err }, 'bus publish to other instances failed'));
  }

  protected async sendWithin(tx: BusTx, texts: string[]) {
    // Delivered to every listener when the transaction commits, after earlier commits' events.
    for (const run of notifyRuns(texts)) await tx.execute(notifyStatement(dsql, this.channel, run));
  }

  async close() {
    this.closed = true;
    this.local.clear();
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    await Promise.all([this.listener.end({ timeout: 5 }), this.sql.end({ timeout: 5 })]);
  }
}

import { sql as dsql } from 'drizzle-orm';
import postgres from 'postgres';
import type { Logger } from '../log';
import type { BusTx } from '../realtime/bus';
import { failureReporter, guarded } from '../guarded';
import { CrossInstanceBus } from './wire';

/** NOTIFY payloads must stay under 8,000 bytes; above this a message travels by reference. */
export const NOTIFY_INLINE_BYTES = 7_900;
const REF = 'ref:';

/**
 * The one NOTIFY statement, written once for both drivers' tagged templates (postgres.js for a
 * publish on its own, drizzle's `sql` inside a transaction): inline, or by reference to a row.
 */
function notifyQuery<Q>(
  tag: (strings: TemplateStringsArray, ...values: string[]) => Q,
  channel: string,
  text: string,
): Q {
  return Buffer.byteLength(text) <= NOTIFY_INLINE_BYTES
    ? tag`select pg_notify(${channel}, ${text})`
    : tag`with r as (insert into bus_payloads (payload) values (${text}) returning id) select pg_notify(${channel}, ${REF} || r.id) from r`;
}

/**
 * The bus over Postgres LISTEN/NOTIFY: one listening connection per instance (never per client)
 * and one publishing connection, so this instance's notifications leave in publish order.
 * Large messages are stored in bus_payloads and the notification carries the row id.
 */
export class PostgresBus extends CrossInstanceBus {
  private readonly sql: postgres.Sql;
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
    this.sql = postgres(url, { max: 1, onnotice: () => {} });
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
    notifyQuery(this.sql, this.channel, text)
      .execute()
      .catch((err: unknown) => this.log.warn({ err }, 'bus publish to other instances failed'));
  }

  protected async sendWithin(tx: BusTx, texts: string[]) {
    // One connection, so these run in order; delivered to every listener when the transaction commits.
    await Promise.all(texts.map((text) => tx.execute(notifyQuery(dsql, this.channel, text))));
  }

  async close() {
    this.closed = true;
    this.local.clear();
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    await Promise.all([this.listener.end({ timeout: 5 }), this.sql.end({ timeout: 5 })]);
  }
}

import postgres from 'postgres';
import { guarded } from '../guarded';
import type { Logger } from '../log';

/** A job that must run on one instance of the cluster at a time (a schedule, an upstream). */
export interface Singleton {
  readonly name: string;
  isLeader(): boolean;
}

export interface SingletonHooks {
  /** This instance just became the leader: start the work (backfill what the last leader left). */
  onLead?: () => void;
  /** Leadership is gone (connection lost, shutdown): stop at once, another instance may take over. */
  onLose?: () => void;
}

export interface InstanceReport {
  id: string;
  startedAt: Date;
  seenAt: Date;
  leads: string[];
  upstreams: number;
  busLagMs: number | null;
}

export interface ClusterView {
  instanceId: string;
  /** 'local' on embedded PGlite: one process leads everything. */
  kind: 'local' | 'postgres';
  /** Instances seen within the last few election rounds. */
  instances: InstanceReport[];
  /** Singleton name → instance leading it (null: nobody right now, e.g. during a handover). */
  leaders: Record<string, string | null>;
}

export interface Elector {
  readonly instanceId: string;
  singleton(name: string, hooks?: SingletonHooks): Singleton;
  /** Resolves after an election round that saw every singleton registered so far. */
  settle(): Promise<void>;
  view(): Promise<ClusterView>;
  close(): Promise<void>;
}

interface Entry {
  name: string;
  leading: boolean;
  hooks: SingletonHooks[];
}

function callHooks(entry: Entry, which: 'onLead' | 'onLose', log: Logger) {
  for (const h of entry.hooks) {
    try {
      h[which]?.();
    } catch (err) {
      log.error({ err, singleton: entry.name }, `singleton ${which} hook failed`);
    }
  }
}

/** Embedded PGlite is one process: it leads every singleton from the start. */
export function createLocalElector(
  instanceId: string,
  log: Logger,
  report: () => { upstreams: number; busLagMs: number | null },
): Elector {
  const entries = new Map<string, Entry>();
  const startedAt = new Date();
  return {
    instanceId,
    singleton(name, hooks) {
      let e = entries.get(name);
      if (!e) entries.set(name, (e = { name, leading: true, hooks: [] }));
      if (hooks) {
        e.hooks.push(hooks);
        queueMicrotask(() => callHooks({ ...e, hooks: [hooks] }, 'onLead', log));
      }
      return { name, isLeader: () => e.leading };
    },
    async settle() {},
    async view() {
      const leads = [...entries.keys()].sort();
      return {
        instanceId,
        kind: 'local',
        instances: [{ id: instanceId, startedAt, seenAt: new Date(), leads, ...report() }],
        leaders: Object.fromEntries(leads.map((n) => [n, instanceId])),
      };
    },
    async close() {
      for (const e of entries.values()) {
        if (!e.leading) continue;
        e.leading = false;
        callHooks(e, 'onLose', log);
      }
    },
  };
}

/**
 * Leader election over Postgres session advisory locks, all held on one dedicated connection:
 * whoever holds `pg_try_advisory_lock(hashtextextended('hubcast:' || name, 0))` leads `name`.
 * Every round (CLUSTER_ELECTION_MS) non-leaders try again, and the connection is checked: when
 * it died (the backend pid changed, or the query failed) every lock is gone with it, so this
 * instance stops leading at once, and another takes over at its next round. A killed process's
 * locks go when Postgres notices the closed socket, so failover takes about one round.
 */
export async function startPostgresElector(opts: {
  url: string;
  instanceId: string;
  intervalMs: number;
  log: Logger;
  report: () => { upstreams: number; busLagMs: number | null };
}): Promise<Elector> {
  const log = opts.log.child({ component: 'cluster' });
  const sql = postgres(opts.url, { max: 1, idle_timeout: 0, max_lifetime: null, onnotice: () => {} });
  const entries = new Map<string, Entry>();
  let pid: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  // Rounds never overlap: two at once could both take a lock (it is re-entrant) and lead twice.
  let rounds: Promise<void> = Promise.resolve();
  const runRound = () => (rounds = rounds.then(electOnce));

  const loseAll = (why: string) => {
    for (const e of entries.values()) {
      if (!e.leading) continue;
      e.leading = false;
      log.warn({ singleton: e.name, why }, 'lost leadership');
      callHooks(e, 'onLose', log);
    }
  };

  const electOnce = async () => {
    try {
      const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      if (pid !== null && row!.pid !== pid) {
        loseAll('election connection was re-established');
        // Whatever this new session may hold from a half-finished round is released first.
        await sql`select pg_advisory_unlock_all()`;
      }
      pid = row!.pid;
      for (const e of entries.values()) {
        if (e.leading || closed) continue;
        const [got] = await sql<
          { ok: boolean }[]
        >`select pg_try_advisory_lock(hashtextextended(${'hubcast:' + e.name}, 0)) as ok`;
        if (got?.ok && !closed) {
          e.leading = true;
          log.info({ singleton: e.name }, 'leading');
          callHooks(e, 'onLead', log);
        }
      }
      const leads = [...entries.values()]
        .filter((e) => e.leading)
        .map((e) => e.name)
        .sort();
      const { upstreams, busLagMs } = opts.report();
      await sql`
        insert into cluster_instances (id, started_at, seen_at, leads, upstreams, bus_lag_ms)
        values (${opts.instanceId}, now(), now(), ${sql.json(leads)}, ${upstreams}, ${busLagMs})
        on conflict (id) do update set seen_at = now(), leads = excluded.leads, upstreams = excluded.upstreams, bus_lag_ms = excluded.bus_lag_ms`;
      // Rows of instances gone for an hour: nobody needs them any more.
      await sql`delete from cluster_instances where seen_at < now() - interval '1 hour'`;
    } catch (err) {
      pid = null;
      loseAll('election connection failed');
      log.warn({ err }, 'leader election round failed; retrying');
    }
  };

  // A round catches its own failures; guarded() is for whatever escapes (a hook, the scheduling).
  const tick = guarded(log, 'leader election round', () =>
    runRound().finally(() => {
      if (!closed) {
        timer = setTimeout(tick, opts.intervalMs);
        timer.unref();
      }
    }),
  );
  await runRound();
  timer = setTimeout(tick, opts.intervalMs);
  timer.unref();

  const aliveWithin = Math.max(3 * opts.intervalMs, 3_000);
  return {
    instanceId: opts.instanceId,
    singleton(name, hooks) {
      let e = entries.get(name);
      if (!e) entries.set(name, (e = { name, leading: false, hooks: [] }));
      if (hooks) {
        e.hooks.push(hooks);
        if (e.leading) queueMicrotask(() => callHooks({ ...e, hooks: [hooks] }, 'onLead', log));
      }
      const entry = e;
      return { name, isLeader: () => entry.leading };
    },
    settle: () => runRound(),
    async view() {
      const rows = await sql<
        { id: string; started_at: Date; seen_at: Date; leads: string[]; upstreams: number; bus_lag_ms: number | null }[]
      >`
        select id, started_at, seen_at, leads, upstreams, bus_lag_ms from cluster_instances
        where seen_at > now() - ${aliveWithin / 1000} * interval '1 second' order by id`;
      const instances = rows.map((r) => ({
        id: r.id,
        startedAt: r.started_at,
        seenAt: r.seen_at,
        leads: r.leads,
        upstreams: r.upstreams,
        busLagMs: r.bus_lag_ms,
      }));
      const leaders: Record<string, string | null> = Object.fromEntries([...entries.keys()].map((n) => [n, null]));
      for (const i of instances) for (const n of i.leads) leaders[n] = i.id;
      return { instanceId: opts.instanceId, kind: 'postgres', instances, leaders };
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await rounds;
      loseAll('shutting down');
      await sql`delete from cluster_instances where id = ${opts.instanceId}`.catch(() => {});
      // Ending the session releases its locks: the next instance leads at its next round.
      await sql.end({ timeout: 5 });
    },
  };
}

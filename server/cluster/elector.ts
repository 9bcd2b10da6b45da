import postgres from 'postgres';
import { guarded } from '../guarded';
import type { Logger } from '../log';

/** A job that must run on one instance of the cluster at a time (a schedule, an upstream). */
export interface Singleton {
  readonly name: string;
  isLeader(): boolean;
}

/**
 * Work that runs on one instance of the cluster at a time for as long as it takes (a scan), unlike
 * a singleton, which one instance leads until it goes.
 */
export interface ClusterLock {
  readonly name: string;
  /** Runs `work` unless work under this lock is running anywhere in the cluster: then `{ held: false }` at once. */
  tryRun<T>(work: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }>;
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
  lock(name: string): ClusterLock;
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

/**
 * The in-process half of every cluster lock: re-entrant advisory locks would let a second run on
 * this instance through. `take` claims the cluster-wide half (true: claimed); `give` returns it.
 */
function localLock(
  name: string,
  take: () => boolean | Promise<boolean>,
  give: () => Promise<void> = async () => {},
): ClusterLock {
  let busy = false;
  return {
    name,
    async tryRun(work) {
      if (busy) return { held: false };
      busy = true;
      try {
        if (!(await take())) return { held: false };
        try {
          return { held: true, value: await work() };
        } finally {
          await give();
        }
      } finally {
        busy = false;
      }
    },
  };
}

/** One lock per name in a process: two holders of the same name must share its in-process half. */
function oncePerName(locks: Map<string, ClusterLock>, name: string, make: () => ClusterLock): ClusterLock {
  let lock = locks.get(name);
  if (!lock) locks.set(name, (lock = make()));
  return lock;
}

/** Embedded PGlite is one process: it leads every singleton from the start. */
export function createLocalElector(
  instanceId: string,
  log: Logger,
  report: () => { upstreams: number; busLagMs: number | null },
): Elector {
  const entries = new Map<string, Entry>();
  const locks = new Map<string, ClusterLock>();
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
    // One process: the lock is this process's own.
    lock: (name) => oncePerName(locks, name, () => localLock(name, () => true)),
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
  const locks = new Map<string, ClusterLock>();
  let pid: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  // Rounds never overlap: two at once could both take a lock (it is re-entrant) and lead twice.
  // Cluster locks queue here too, so a round's unlock_all after a reconnect never drops one.
  let rounds: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const done = rounds.then(job);
    rounds = done.catch(() => {});
    return done;
  };
  const runRound = () => serial(electOnce);

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
    /**
     * A session advisory lock on the election connection, taken for the work and released after
     * it. If that connection dies meanwhile, the lock goes with it and the work carries on: one
     * more instance may then start the same work, as after a leader's failover.
     */
    lock(name) {
      const key = `hubcast:lock:${name}`;
      return oncePerName(locks, name, () =>
        localLock(
          name,
          async () => {
            if (closed) return false;
            const [got] = await serial(async () => {
              // A round first: if the connection was re-established since the last one, its
              // clean-up (unlock_all) must run before this lock is taken on the new session, not after.
              await electOnce();
              return sql<{ ok: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as ok`;
            });
            return got?.ok === true;
          },
          async () => {
            await serial(() => sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`).catch((err: unknown) =>
              log.warn({ err, lock: name }, 'cluster lock release failed (it went with its connection)'),
            );
          },
        ),
      );
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

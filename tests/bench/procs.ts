/** The bench's child processes (server, clients, the slow client) and what run.ts asks them. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientCommand } from './clients';
import type { Command } from './server';
import type { StalledCommand } from './stalled';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** A child process answering one IPC message per command, in order. */
export class Proc {
  private readonly waiting: ((v: never) => void)[] = [];
  private readonly early: unknown[] = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (m) => {
      const w = this.waiting.shift();
      if (w) w(m as never);
      else this.early.push(m);
    });
    child.on('exit', (code) => {
      if (code) for (const w of this.waiting.splice(0)) w({ error: `exited with ${code}` } as never);
    });
  }
  static start(file: string, args: string[], extraArgv: string[] = []) {
    return new Proc(
      fork(here(file), args, {
        execArgv: ['--import', 'tsx', '--expose-gc', ...extraArgv],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
  }
  next<T>(): Promise<T> {
    if (this.early.length) return Promise.resolve(this.early.shift() as T);
    return new Promise<T>((r) => this.waiting.push(r as never));
  }
  ask<T>(cmd: Command | ClientCommand | StalledCommand): Promise<T> {
    const p = this.next<T>();
    this.child.send(cmd);
    return p;
  }
  stop() {
    this.child.send({ cmd: 'stop' });
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pct = (xs: Float64Array, p: number) =>
  xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN;

export async function waitFor(clients: Proc[], total: number, quietMs: number, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const counts = await Promise.all(clients.map((c) => c.ask<{ received: number }>({ cmd: 'count' })));
    const got = counts.reduce((a, c) => a + c.received, 0);
    if (got >= total || Date.now() > deadline) return;
    if (got !== last) [last, lastChange] = [got, Date.now()];
    else if (Date.now() - lastChange > quietMs) return; // nothing more is coming
    await sleep(100);
  }
}

export async function latencies(clients: Proc[]) {
  const reports = await Promise.all(
    clients.map((c) => c.ask<{ latencies: number[]; lastAt: number; closes: number }>({ cmd: 'report' })),
  );
  const all = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
  return { all, lastAt: Math.max(...reports.map((r) => r.lastAt)), closes: reports.reduce((a, r) => a + r.closes, 0) };
}

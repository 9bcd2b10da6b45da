/** The bench's settings, from the environment (see run.ts for what each does). */
import type { Target } from './server';

export const env = process.env;
export const NS = (env.BENCH_N ?? '1000,5000').split(',').map(Number);
export const TARGETS = (env.BENCH_TARGETS ?? 'hubcast,socketio,ws').split(',') as Target[];
export const LIGHT = Number(env.BENCH_LIGHT_EVENTS ?? 10);
export const BURST = Number(env.BENCH_BURST_EVENTS ?? 100);
export const BURST_RATE = Number(env.BENCH_BURST_RATE ?? 100);
export const REPS = Number(env.BENCH_REPS ?? 1);
/** The slow-client scenario: the saturation burst again with one subscriber that stopped reading. */
export const STALL = env.BENCH_STALL !== '0';
/** The longest the slow client waits, once cut, before it reads again (the server terminates a cut socket after 5 s). */
export const READ_AFTER_CUT_MS = 3000;
/** Hubcast's restart-and-resume: closed candles stored while the clients are not told, then a restart (0: skipped). */
export const RESUME_MISSED = Number(env.BENCH_RESUME_MISSED ?? 20);

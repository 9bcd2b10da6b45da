import type { App } from '../../server/app';
import type { RunningServer } from '../../server/http';

/** Feature benchmarks: each prints its own figures. */
export const suites: Array<(app: App, server: RunningServer) => Promise<void>> = [];

/** Live counters behind `system.stats` and `/metrics`. One instance per app. */
export class RealtimeStats {
  connections = 0;
  connectionsTotal = 0;
  slowClientDisconnects = 0;
  private readonly subscriptions = new Map<string, number>();
  private readonly upstreamSources = new Map<string, () => number>();

  connectionOpened() {
    this.connections++;
    this.connectionsTotal++;
  }

  connectionClosed() {
    this.connections--;
  }

  /** Counts one open subscription on `path`; call the returned function exactly once when it ends. */
  subscriptionStarted(path: string): () => void {
    this.subscriptions.set(path, (this.subscriptions.get(path) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.subscriptions.get(path) ?? 1) - 1;
      if (n === 0) this.subscriptions.delete(path);
      else this.subscriptions.set(path, n);
    };
  }

  subscriptionsByPath(): Record<string, number> {
    return Object.fromEntries([...this.subscriptions].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Features register how many upstream connections they hold open right now. */
  registerUpstream(name: string, count: () => number) {
    this.upstreamSources.set(name, count);
  }

  upstreamConnections(): Record<string, number> {
    return Object.fromEntries([...this.upstreamSources].map(([name, count]) => [name, count()]));
  }
}

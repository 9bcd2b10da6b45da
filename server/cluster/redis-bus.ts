import { Redis } from 'ioredis';
import type { Logger } from '../log';
import type { BusTx } from '../realtime/bus';
import { failureReporter, guarded } from '../guarded';
import { CrossInstanceBus } from './wire';

/**
 * The bus over Redis pub/sub: one subscribing and one publishing connection per instance. A
 * transaction's events are published (and acknowledged) before it commits, while it still holds
 * its stream locks, so Redis receives one stream's events in commit order. The price: if that
 * commit then fails, subscribers have seen an event that is not stored (a resume skips nothing).
 */
export class RedisBus extends CrossInstanceBus {
  private readonly pub: Redis;
  private readonly sub: Redis;

  private constructor(
    url: string,
    private readonly channel: string,
    instanceId: string,
    private readonly log: Logger,
  ) {
    super('redis', instanceId, failureReporter(log, 'bus handler'));
    this.pub = new Redis(url, { lazyConnect: true });
    this.sub = new Redis(url, { lazyConnect: true });
    for (const c of [this.pub, this.sub]) c.on('error', (err) => this.log.warn({ err }, 'redis connection error'));
  }

  static async start(opts: { url: string; channel: string; instanceId: string; log: Logger }): Promise<RedisBus> {
    const bus = new RedisBus(opts.url, opts.channel, opts.instanceId, opts.log.child({ component: 'bus' }));
    await Promise.all([bus.pub.connect(), bus.sub.connect()]);
    // Emitted from ioredis's socket handling: a throw there would end the process.
    bus.sub.on(
      'message',
      guarded(bus.log, 'bus message', (ch: string, text: string) => ch === bus.channel && bus.receive(text)),
    );
    // Attached after the first connect, so only reconnects; ioredis subscribes again by itself.
    bus.sub.on(
      'ready',
      guarded(bus.log, 'bus resubscribe', () => {
        bus.log.warn(
          'bus subscriber reconnected: live events sent while it was down were missed; clients are told to resume from their last id',
        );
        bus.listenerReconnected();
      }),
    );
    await bus.sub.subscribe(bus.channel);
    return bus;
  }

  protected send(text: string) {
    this.pub
      .publish(this.channel, text)
      .catch((err: unknown) => this.log.warn({ err }, 'bus publish to other instances failed'));
  }

  protected async sendWithin(_tx: BusTx, texts: string[]) {
    await Promise.all(texts.map((t) => this.pub.publish(this.channel, t)));
  }

  async close() {
    this.closed = true;
    this.local.clear();
    this.sub.disconnect();
    await this.pub.quit().catch(() => {});
  }
}

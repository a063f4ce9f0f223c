import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '../logger.ts';
import { supervise, type Supervised } from '../supervise.ts';

type LinkState = 'unreachable' | 'connected' | 'disconnected' | 'closed';

interface Setup {
  name: string;
  run: (nc: NatsConnection) => Promise<void>;
}

/**
 * The owner of a service's NATS connection. Services start without it: start() keeps trying to connect in
 * the background, then runs the set-up steps registered with onConnect (micro services, KV watches,
 * consumers) in order, retrying a step that fails; problems() says what is missing, for /health.
 */
export class NatsLink {
  private nc: NatsConnection | undefined;
  private state: LinkState = 'unreachable';
  private readonly setups: Setup[] = [];
  private setupsDone = 0;
  private readonly tasks: Supervised[] = [];
  private markReady: () => void = () => {};
  private readonly readyPromise = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly connect: () => Promise<NatsConnection>,
    private readonly log: Logger,
    private readonly retryMs = 1000,
  ) {}

  /** Run `run` once connected (steps run in registration order; register them before start()). */
  onConnect(name: string, run: (nc: NatsConnection) => Promise<void>): void {
    this.setups.push({ name, run });
  }

  start(): void {
    this.tasks.push(supervise('nats connection', this.log, (signal) => this.connectAndSetUp(signal)));
  }

  /** Resolves once connected and every set-up step is done. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** The connection once made (it reconnects by itself after that), or undefined. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  /** Why the service is degraded, for /health: empty when connected and every set-up step is done. */
  problems(): string[] {
    const problems = this.state === 'connected' ? [] : [`nats: ${this.state}`];
    const pending = this.setups[this.setupsDone];
    if (this.nc && pending) problems.push(`${pending.name}: not set up yet`);
    return problems;
  }

  /** Stop connecting and following, then drain the connection if there is one. */
  async close(): Promise<void> {
    // Abort first, then drain: the status follower and a set-up step in flight end with the connection.
    const stopping = this.tasks.splice(0).map((t) => t.stop());
    this.state = 'closed';
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
    await Promise.all(stopping);
  }

  private async connectAndSetUp(signal: AbortSignal): Promise<void> {
    const nc = this.nc ?? (await this.firstConnect(signal));
    if (!nc) return;
    for (; this.setupsDone < this.setups.length && !signal.aborted; this.setupsDone++) {
      const setup = this.setups[this.setupsDone]!;
      await setup.run(nc);
      this.log.debug({ setup: setup.name }, 'set up on nats');
    }
    if (this.setupsDone === this.setups.length) this.markReady();
  }

  private async firstConnect(signal: AbortSignal): Promise<NatsConnection | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const nc = await this.connect();
        if (signal.aborted) {
          await nc.close();
          return undefined;
        }
        this.nc = nc;
        this.state = 'connected';
        this.log.info('connected to nats');
        this.tasks.push(supervise('nats status', this.log, () => this.followStatus(nc)));
        return nc;
      } catch (err) {
        // Said once at warn level; each further failed attempt only at debug, so an outage does not flood.
        const level = attempt === 0 ? 'warn' : 'debug';
        this.log[level]({ err: err instanceof Error ? err.message : err }, 'nats unreachable; retrying');
        // An abort ends the pause early: the loop's condition sees it.
        await sleep(this.retryMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return undefined;
  }

  /** Ends when the connection closes (the iterator ends with it); connectNats logs the changes. */
  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.state = 'disconnected';
      if (s.type === 'reconnect') this.state = 'connected';
    }
  }
}

// What the players play through: a real edge proxy (its own process, its own nats-server) in front of
// simulated engines in this process, so each condition can fault the engine a stream plays on.
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSimulator, type Simulator, type SimulatorOptions } from '@acefleet/ace-sim';
import { NatsUsers } from '@acefleet/contracts';
import {
  startAcefleetService,
  startNatsServer,
  type NatsServer,
  type ServiceProcess,
} from '@acefleet/testkit';

export interface PlayersStack {
  proxyUrl: string;
  sims: Simulator[];
  simUrls: string[];
  proxy: ServiceProcess;
  nats: NatsServer;
  /** The simulator a stream plays on now (the one with a reader). */
  simPlaying(): Simulator | undefined;
  /** The engine process is gone: its connections reset, its port closed. */
  kill(sim: Simulator): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  engines?: number;
  sim?: SimulatorOptions;
  proxyEnv?: Record<string, string>;
}

export async function startStack(opts: StackOptions = {}): Promise<PlayersStack> {
  const sims = Array.from({ length: opts.engines ?? 2 }, () =>
    buildSimulator({ burstSeconds: 2, ...opts.sim }),
  );
  const simUrls = await Promise.all(sims.map(async (s) => (await s.listen(0, '127.0.0.1')).url));
  const nats = await startNatsServer();
  const proxy = await startAcefleetService('proxy', {
    ...nats.env(NatsUsers.edgeProxy),
    STATIC_ENGINES: simUrls.join(','),
    STATIC_ENGINE_CAPACITY: '100',
    MAX_STREAMS_PER_CLIENT: '100',
    ENGINE_COOLDOWN_MS: '0',
    LINGER_MS: '0',
    OUTBOX_DIR: '',
    INSTANCE_FILE: '',
    ENGINE_CACHE_FILE: path.join(tmpdir(), `acefleet-players-${process.pid}-${Date.now()}.json`),
    ...opts.proxyEnv,
  });
  const closed = new Set<Simulator>();
  return {
    proxyUrl: proxy.url,
    sims,
    simUrls,
    proxy,
    nats,
    simPlaying: () => sims.find((s) => !closed.has(s) && s.stats().playbackReaders > 0),
    async kill(sim) {
      closed.add(sim);
      await sim.close();
    },
    async stop() {
      await proxy.stop();
      await nats.destroy();
      await Promise.all(sims.filter((s) => !closed.has(s)).map((s) => s.close()));
    },
  };
}

/**
 * A TCP relay in front of the proxy for one player, that can stop reading from the proxy for a while: the
 * player starves, the proxy finds it behind its ring and skips it forward.
 */
export interface PausingRelay {
  url(path: string): string;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startPausingRelay(target: string): Promise<PausingRelay> {
  const { hostname, port } = new URL(target);
  const upstreams = new Set<net.Socket>();
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    upstreams.add(upstream);
    const forget = (): void => {
      client.destroy();
      upstream.destroy();
      upstreams.delete(upstream);
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => {
      if (!paused) upstream.resume();
    });
    if (paused) upstream.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    pause() {
      paused = true;
      for (const u of upstreams) u.pause();
    },
    resume() {
      paused = false;
      for (const u of upstreams) u.resume();
    },
    async close() {
      for (const u of upstreams) u.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

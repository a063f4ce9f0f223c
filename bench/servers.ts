import { NatsUsers } from '@acefleet/contracts';
import { freePort, startNatsServer, waitFor } from '@acefleet/testkit';
import { startBundle, startTs, waitHttp, type Proc } from './processes.ts';

export const RATE_BPS = 4_000_000;

/** A system under test: its process (for /proc), its base URL, and how to stop it with what it needs. */
export interface Server {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** One simulated engine process at RATE_BPS, with no start-up burst. */
export async function startSim(): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const args = ['--http-port', String(port), '--bitrate-bps', String(RATE_BPS), '--burst-seconds', '0'];
  const proc = startTs('tools/ace-sim/src/main.ts', args);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/server/api?api_version=3&method=get_status`);
  return { proc, url };
}

/**
 * The real edge proxy, bundled, with a nats-server of its own. With `simUrl` it plays from that engine (no
 * manager runs: acquires fall back to STATIC_ENGINES); `natsEnv` points it at another NATS instead.
 */
export async function startAcefleet(
  simUrl: string,
  env: Record<string, string> = {},
  natsEnv?: Record<string, string>,
): Promise<Server> {
  const nats = natsEnv ? undefined : await startNatsServer();
  const port = await freePort();
  const proc = startBundle('edge-proxy', [], {
    ...(natsEnv ?? nats!.env(NatsUsers.edgeProxy)),
    HTTP_PORT: String(port),
    STATIC_ENGINES: simUrl,
    ACQUIRE_TIMEOUT_MS: '500',
    // One simulated engine and one client address stand for many: lift the per-engine and per-client limits.
    STATIC_ENGINE_CAPACITY: '10000',
    MAX_STREAMS_PER_CLIENT: '10000',
    MAX_STREAMS: '10000',
    MAX_PLAYERS: '100000',
    MAX_CONNECTIONS: '100000',
    ...(JSON.parse(process.env.BENCH_PROXY_ENV ?? '{}') as Record<string, string>),
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health`);
  return {
    pid: proc.child.pid!,
    url,
    stop: async () => {
      await proc.stop();
      await nats?.destroy();
    },
  };
}

/** The plain Node fan-out (plain-fanout.ts), one upstream per channel from the engine at `simUrl`. */
export async function startPlain(simUrl: string): Promise<Server> {
  const port = await freePort();
  const proc = startBundle('plain-fanout', [String(port), simUrl]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(url, { signal: AbortSignal.timeout(200) }).catch(() => null)) !== null,
    10_000,
  );
  return { pid: proc.child.pid!, url, stop: async () => void (await proc.stop()) };
}

import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { waitFor } from '@acefleet/testkit';

const run = promisify(execFile);

/** A second Docker daemon on this machine standing in for a second host: its own socket, data and exec roots. */
export const SECOND_DOCKER = {
  socket: '/run/docker2.sock',
  dataRoot: '/var/lib/docker2',
  execRoot: '/run/docker2-exec',
  pidFile: '/run/docker2.pid',
} as const;
const IMAGE = 'acefleet/ace-sim:local';
const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${SECOND_DOCKER.socket}` };

const docker2 = (args: string[]): Promise<{ stdout: string }> => run('docker', args, { env: dockerEnv });

export interface SecondDocker {
  /** The manager's DOCKER_SOCKET. */
  socket: string;
  /** dockerd's pid, for the pause fault. */
  pid(): Promise<number>;
  /** Remove every container of the fleet from this daemon (stack.stop() only cleans the default one). */
  removeFleet(fleetId: string): Promise<void>;
}

/**
 * The second daemon, started unless it already answers, with the engine image loaded into it. No bridge and
 * no iptables: engines use host networking, and the default daemon owns the machine's network setup. Rejects
 * when dockerd cannot run here (the caller falls back to both managers on the default daemon).
 */
export async function startSecondDocker(): Promise<SecondDocker> {
  const answers = (): Promise<boolean> =>
    docker2(['info']).then(
      () => true,
      () => false,
    );
  if (!(await answers())) {
    await mkdir(SECOND_DOCKER.dataRoot, { recursive: true });
    await mkdir(SECOND_DOCKER.execRoot, { recursive: true });
    // Outlives the run on purpose, like the default daemon: the next run reuses it and its loaded image.
    const child = spawn(
      'dockerd',
      [
        `--host=unix://${SECOND_DOCKER.socket}`,
        `--data-root=${SECOND_DOCKER.dataRoot}`,
        `--exec-root=${SECOND_DOCKER.execRoot}`,
        `--pidfile=${SECOND_DOCKER.pidFile}`,
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
      ],
      { detached: true, stdio: 'ignore' },
    );
    child.unref();
    await waitFor(answers, 30_000, 500);
  }
  const images = (await docker2(['images', '-q', IMAGE])).stdout.trim();
  if (!images) {
    await run('sh', ['-c', `docker save ${IMAGE} | DOCKER_HOST=unix://${SECOND_DOCKER.socket} docker load`]);
  }
  return {
    socket: SECOND_DOCKER.socket,
    pid: async () => Number((await readFile(SECOND_DOCKER.pidFile, 'utf8')).trim()),
    async removeFleet(fleetId) {
      const ids = (await docker2(['ps', '-aq', '--filter', `label=io.acefleet.fleet=${fleetId}`])).stdout
        .split('\n')
        .filter(Boolean);
      if (ids.length > 0) await docker2(['rm', '-f', ...ids]);
    },
  };
}

/** SIGSTOP the daemon for `ms`, then SIGCONT: its API stops answering while its containers keep playing. */
export async function pauseDockerd(pid: number, ms: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** `docker kill` on the daemon that runs the container. */
export async function killContainer(containerId: string, onSecond: boolean): Promise<void> {
  await run('docker', ['kill', containerId], onSecond ? { env: dockerEnv } : {});
}

/**
 * How `npm start` keeps its processes running (scripts/start.ts): a process that dies is started again after a
 * backoff and the stack stays up; the stack stops only on Ctrl-C, or when one process keeps dying. Every
 * process is started under `setpriv --pdeathsig TERM` where util-linux has it, so the supervisor's own death
 * (kill -9 included) takes its children with it instead of leaving them orphaned.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** When to start a died process again, and when to give up on it. */
export interface RestartRules {
  /** The first restart comes this long after the death; each next one twice as late... */
  firstDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** A process up this long counts as well again: its next death starts the backoff afresh. */
  stableAfterMs: number;
  /** This many deaths within `withinMs` mean it keeps dying: the stack stops. */
  maxDeaths: number;
  withinMs: number;
}

export const defaultRestartRules: RestartRules = {
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  maxDeaths: 5,
  withinMs: 120_000,
};

/** A configuration error (exit code 2): starting the process again would fail the same way. */
const CONFIG_ERROR_EXIT = 2;

export type RestartDecision = { restartInMs: number } | { giveUp: string };

/** The restart policy of one process, as a pure function of its deaths (tested without processes). */
export class RestartPolicy {
  private deaths: number[] = [];
  private streak = 0;

  constructor(private readonly rules: RestartRules = defaultRestartRules) {}

  /** The process died at `now` with `code`, having been started at `startedAt`: restart it, or give up. */
  died(now: number, startedAt: number, code: number | null): RestartDecision {
    if (code === CONFIG_ERROR_EXIT) return { giveUp: 'its configuration is invalid (exit code 2)' };
    if (now - startedAt >= this.rules.stableAfterMs) this.streak = 0;
    this.deaths = [...this.deaths.filter((at) => now - at < this.rules.withinMs), now];
    if (this.deaths.length >= this.rules.maxDeaths) {
      return { giveUp: `it died ${this.deaths.length} times within ${this.rules.withinMs / 1000} s` };
    }
    const restartInMs = Math.min(this.rules.maxDelayMs, this.rules.firstDelayMs * 2 ** this.streak);
    this.streak++;
    return { restartInMs };
  }
}

export interface ProcessSpec {
  name: string;
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** `setpriv --pdeathsig TERM`: the kernel sends the child SIGTERM when its parent dies. */
const deathSignal = ((): string[] => {
  const found = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.includes('--pdeathsig')
    ? ['setpriv', '--pdeathsig', 'TERM', '--']
    : [];
})();

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  startedAt: number;
  policy: RestartPolicy;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Runs the stack's processes: each one's output appended to `<logDir>/<name>.log` and its pid kept in
 * `<pidDir>/<name>.pid`. Tells `onGiveUp` when a process keeps dying; says what it does on `say`.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly opts: {
      cwd: string;
      logDir: string;
      pidDir: string;
      say: (line: string) => void;
      onGiveUp: (name: string, why: string) => void;
      rules?: RestartRules;
    },
  ) {
    mkdirSync(opts.pidDir, { recursive: true });
    if (deathSignal.length === 0) {
      opts.say('setpriv (util-linux) not found: a killed npm start would leave its processes running');
    }
  }

  /** Start `spec` and keep it running. */
  start(spec: ProcessSpec): ChildProcess {
    const entry: Running = {
      spec,
      child: this.spawn(spec),
      startedAt: Date.now(),
      policy: new RestartPolicy(this.opts.rules),
      restartTimer: undefined,
    };
    this.running.set(spec.name, entry);
    this.watch(entry);
    return entry.child;
  }

  /** Stop every process, in `order` (names first to last; others after them), each with SIGTERM then SIGKILL. */
  async stopAll(order: string[], say: (name: string) => void): Promise<void> {
    this.stopping = true;
    const rank = (name: string): number => {
      const i = order.indexOf(name);
      return i < 0 ? order.length : i;
    };
    for (const entry of [...this.running.values()].sort((a, b) => rank(a.spec.name) - rank(b.spec.name))) {
      clearTimeout(entry.restartTimer);
      const { child } = entry;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
        say(entry.spec.name);
      }
      rmSync(this.pidFile(entry.spec.name), { force: true });
    }
  }

  private pidFile(name: string): string {
    return path.join(this.opts.pidDir, `${name}.pid`);
  }

  private spawn(spec: ProcessSpec): ChildProcess {
    const log = createWriteStream(path.join(this.opts.logDir, `${spec.name}.log`), { flags: 'a' });
    const [cmd, ...args] = [...deathSignal, spec.cmd, ...spec.args];
    const child = spawn(cmd!, args, {
      cwd: this.opts.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: the terminal's Ctrl-C reaches only the supervisor, which stops the
      // processes in order (the proxy first, while NATS still stores its stream.ended events).
      detached: true,
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    if (child.pid !== undefined) writeFileSync(this.pidFile(spec.name), `${child.pid}\n`);
    return child;
  }

  private watch(entry: Running): void {
    entry.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const { name } = entry.spec;
      const decision = entry.policy.died(Date.now(), entry.startedAt, code);
      const how = signal ?? `code ${code}`;
      if ('giveUp' in decision) {
        this.opts.onGiveUp(name, `${name} exited (${how}) and ${decision.giveUp}`);
        return;
      }
      this.opts.say(`${name} exited (${how}); starting it again in ${decision.restartInMs / 1000} s`);
      entry.restartTimer = setTimeout(() => {
        if (this.stopping) return;
        entry.child = this.spawn(entry.spec);
        entry.startedAt = Date.now();
        this.watch(entry);
      }, decision.restartInMs);
    });
  }
}

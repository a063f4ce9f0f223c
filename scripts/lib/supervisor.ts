/**
 * How `npm start` keeps its processes running (scripts/start.ts): a process that dies is started again after a
 * backoff and the stack stays up; the stack stops only on Ctrl-C, or when one process keeps dying. Every
 * process is started under `setpriv --pdeathsig TERM` where util-linux has it, so the supervisor's own death
 * (kill -9 included) takes its children with it instead of leaving them orphaned.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RotatingLog, type LogRotation } from './rotating-log.ts';

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
  /**
   * What the process gets when the supervisor itself dies: TERM (the default) for one that must clean up
   * (the manager removes its engines), KILL for one with nothing to lose. A Node service whose stdout's reader
   * just died can be stuck in pino's synchronous write and never run its TERM handler: seen in the npm-start
   * test, where such a proxy or monitor outlived its supervisor.
   */
  orphanSignal?: 'TERM' | 'KILL';
}

/** Whether util-linux's `setpriv --pdeathsig` is here: the kernel then signals the child when its parent dies. */
const hasSetpriv = ((): boolean => {
  const found = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.includes('--pdeathsig');
})();

function deathSignal(spec: ProcessSpec): string[] {
  return hasSetpriv ? ['setpriv', '--pdeathsig', spec.orphanSignal ?? 'TERM', '--'] : [];
}

interface Running {
  spec: ProcessSpec;
  /** The process's log, kept across its restarts. */
  log: RotatingLog;
  child: ChildProcess;
  startedAt: number;
  policy: RestartPolicy;
  restartTimer: NodeJS.Timeout | undefined;
}

/** 10 MiB a file, three files a process: what `npm start` keeps unless LOG_FILE_MAX_BYTES / LOG_FILES say. */
export const defaultLogRotation: LogRotation = { maxBytes: 10 * 1024 * 1024, files: 3 };

/**
 * Runs the stack's processes: each one's output appended to `<logDir>/<name>.log` (rotated by `logRotation`)
 * and its pid kept in `<pidDir>/<name>.pid`. Tells `onGiveUp` when a process keeps dying; says what it does
 * on `say`.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  /** Settles once a child has exited and its stdout and stderr are read to the end ('close'). */
  private readonly closed = new WeakMap<ChildProcess, Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly opts: {
      cwd: string;
      logDir: string;
      pidDir: string;
      say: (line: string) => void;
      onGiveUp: (name: string, why: string) => void;
      rules?: RestartRules;
      logRotation?: LogRotation;
    },
  ) {
    mkdirSync(opts.pidDir, { recursive: true });
    if (!hasSetpriv) {
      opts.say('setpriv (util-linux) not found: a killed npm start would leave its processes running');
    }
  }

  /** Start `spec` and keep it running. */
  start(spec: ProcessSpec): ChildProcess {
    const log = new RotatingLog(this.opts.logDir, spec.name, this.opts.logRotation ?? defaultLogRotation);
    const entry: Running = {
      spec,
      log,
      child: this.spawn(spec, log),
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
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await this.closed.get(child);
        clearTimeout(timer);
        say(entry.spec.name);
      }
      // Its output read to the end (it may have exited with lines still in the pipe): the log ends after them.
      await this.closed.get(child);
      entry.log.end();
      rmSync(this.pidFile(entry.spec.name), { force: true });
    }
  }

  private pidFile(name: string): string {
    return path.join(this.opts.pidDir, `${name}.pid`);
  }

  private spawn(spec: ProcessSpec, log: RotatingLog): ChildProcess {
    const [cmd, ...args] = [...deathSignal(spec), spec.cmd, ...spec.args];
    const child = spawn(cmd!, args, {
      cwd: this.opts.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: the terminal's Ctrl-C reaches only the supervisor, which stops the
      // processes in order (the proxy first, while NATS still stores its stream.ended events).
      detached: true,
    });
    // Both streams, and every restart's, write into the one log: none of them may end it.
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.closed.set(child, new Promise((resolve) => child.once('close', resolve)));
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
        entry.child = this.spawn(entry.spec, entry.log);
        entry.startedAt = Date.now();
        this.watch(entry);
      }, decision.restartInMs);
    });
  }
}

import type { Logger } from 'pino';

/** Warnings told apart at most: past this many distinct ones in a window, the rest are written as they come. */
const MAX_TRACKED = 10_000;

interface Folded {
  since: number;
  count: number;
  logger: Logger;
  write: (...args: unknown[]) => void;
  args: unknown[];
}

/** An error's message stands for it; anything JSON cannot say makes the line unfoldable (undefined). */
function identityOf(bindings: unknown, args: unknown[]): string | undefined {
  try {
    return JSON.stringify([bindings, args], (_key, value: unknown) =>
      value instanceof Error ? `${value.name}: ${value.message}` : value,
    );
  } catch {
    return undefined;
  }
}

/**
 * Folds identical warnings (same logger, same fields, same message) written within `windowMs` into one line:
 * the first is written at once, the others are counted, and when the window ends one more line says how many
 * were folded (`repeated`), with the fields of the last one. A warning repeated every second for months
 * writes two lines a window. Only warnings are folded: errors are never dropped.
 */
export class WarningFolder {
  private readonly seen = new Map<string, Folded>();
  private sweeping: NodeJS.Timeout | undefined;
  private summarising = false;

  constructor(private readonly windowMs: number) {}

  /** True when this warning is to be written now; false when it was counted into one already written. */
  admit(logger: Logger, write: (...args: unknown[]) => void, args: unknown[]): boolean {
    if (this.summarising) return true;
    const key = identityOf(logger.bindings(), args);
    if (key === undefined) return true;
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.since < this.windowMs) {
      entry.count++;
      entry.args = args;
      return false;
    }
    if (entry) this.summarise(key, entry);
    if (this.seen.size >= MAX_TRACKED) return true;
    this.seen.set(key, { since: now, count: 0, logger, write, args });
    this.sweeping ??= setInterval(() => this.sweep(), Math.max(50, this.windowMs / 4)).unref();
    return true;
  }

  /** Write the count of every window that has ended; stop sweeping when nothing is left to count. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.seen) {
      if (now - entry.since >= this.windowMs) this.summarise(key, entry);
    }
    if (this.seen.size === 0) {
      clearInterval(this.sweeping);
      this.sweeping = undefined;
    }
  }

  private summarise(key: string, entry: Folded): void {
    this.seen.delete(key);
    if (entry.count === 0) return;
    const [first, ...rest] = entry.args;
    const repeated = entry.count;
    const args =
      typeof first === 'string'
        ? [{ repeated }, ...entry.args]
        : [first instanceof Error ? { err: first, repeated } : { ...(first as object), repeated }, ...rest];
    this.summarising = true;
    try {
      entry.write.apply(entry.logger, args);
    } finally {
      this.summarising = false;
    }
  }
}

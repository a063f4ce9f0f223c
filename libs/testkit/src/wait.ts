import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `check` until it returns true (or a non-false value), or fail after `timeoutMs` with its last error. */
export async function waitFor<T>(
  check: () => Promise<T | false> | T | false,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met in ${timeoutMs} ms`, { cause: last });
    }
    await sleep(intervalMs);
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll `check` until it returns a value other than false or undefined (a `find` that found nothing is "not
 * yet"), or fail after `timeoutMs` with its last error. A check that only throws until it holds must return
 * true once it does.
 */
export async function waitFor<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== false && result !== undefined) return result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met in ${timeoutMs} ms`, { cause: last });
    }
    await sleep(intervalMs);
  }
}

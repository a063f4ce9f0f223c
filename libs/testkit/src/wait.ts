import { setTimeout as sleep } from 'node:timers/promises';

/** What a running fixture (a stack) can say about itself when a wait on it times out. */
type Explainer = () => string;

const explainers = new Set<Explainer>();

/**
 * While the returned function is not called, every `waitFor` that times out in this process ends its error
 * with what `explain` says: a stack's services' last warnings, so that a CI failure names its cause.
 * `explain` must be cheap and synchronous (no I/O): waits that are expected to fail call it too.
 */
export function explainTimeouts(explain: Explainer): () => void {
  explainers.add(explain);
  return () => explainers.delete(explain);
}

function explanation(): string {
  const parts: string[] = [];
  for (const explain of explainers) {
    try {
      parts.push(explain());
    } catch (err) {
      parts.push(`(could not explain: ${String(err)})`);
    }
  }
  return parts.length > 0 ? `\n${parts.join('\n')}` : '';
}

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
      throw new Error(`condition not met in ${timeoutMs} ms${explanation()}`, { cause: last });
    }
    await sleep(intervalMs);
  }
}

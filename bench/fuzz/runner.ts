/** Send fuzz cases with bounded concurrency and time, and count what came back. */
import type { FuzzCase, Target } from './gen.ts';
import { sendHttp, sendRaw, type Outcome, type SendOptions } from './send.ts';

/** A 5xx answer with the request that caused it (printable, shortened). */
export interface Finding {
  category: string;
  target: Target;
  statuses: number[];
  request: string;
}

export interface Tally {
  /** Connections opened (a pipelined case sends several requests on one). */
  cases: number;
  /** Requests written (pipelined requests counted one by one). */
  requests: number;
  /** Per answer: `2xx`…`5xx`; per connection without an answer: its ending. */
  byClass: Record<string, number>;
  byCategory: Record<string, Record<string, number>>;
  findings: Finding[];
  /** A few requests per ending without an answer (timeout, closed, reset), to look at. */
  unanswered: Record<string, string[]>;
  durationMs: number;
  /** True when the time bound stopped the run before every case was sent. */
  cutShort: boolean;
}

export interface RunOptions extends Omit<SendOptions, 'port'> {
  ports: Record<Target, number>;
  concurrency: number;
  deadlineMs: number;
}

/** `GET /x HTTP/1.1\r\n…` made readable: escapes for control bytes, long runs cut. */
export function describe(c: FuzzCase): string {
  if (c.http)
    return `node:http ${c.http.method} ${c.http.path} ${JSON.stringify(c.http.headers)}`.slice(0, 600);
  const text = c
    .raw!.toString('latin1')
    .replace(/[^\x20-\x7e]/g, (ch) =>
      ch === '\r' ? '\\r' : ch === '\n' ? '\\n' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
    )
    .replace(/(.)\1{40,}/g, (run, ch: string) => `${ch}{×${run.length}}`);
  const shown = text.length > 600 ? `${text.slice(0, 600)}… (${c.raw!.length} bytes)` : text;
  return `[${c.mode}] ${shown}`;
}

const classOf = (status: number): string => `${Math.floor(status / 100)}xx`;

export async function runCases(cases: Iterable<FuzzCase>, o: RunOptions): Promise<Tally> {
  const t: Tally = {
    cases: 0,
    requests: 0,
    byClass: {},
    byCategory: {},
    findings: [],
    unanswered: {},
    durationMs: 0,
    cutShort: false,
  };
  const started = Date.now();
  const count = (category: string, key: string) => {
    t.byClass[key] = (t.byClass[key] ?? 0) + 1;
    const cat = (t.byCategory[category] ??= {});
    cat[key] = (cat[key] ?? 0) + 1;
  };
  const record = (c: FuzzCase, out: Outcome) => {
    t.cases++;
    t.requests += c.expect;
    for (const s of out.statuses) count(c.category, classOf(s));
    if (out.statuses.length < c.expect) {
      const ending = out.ending === 'partial' ? 'closed' : out.ending;
      count(c.category, ending);
      const seen = (t.unanswered[ending] ??= []);
      if (ending !== 'hung-up' && seen.length < 8) seen.push(`${c.target} ${describe(c)}`);
    }
    if (out.statuses.some((s) => s >= 500)) {
      t.findings.push({
        category: c.category,
        target: c.target,
        statuses: out.statuses,
        request: describe(c),
      });
    }
  };
  const iterator = cases[Symbol.iterator]();
  const worker = async () => {
    for (;;) {
      if (Date.now() - started > o.deadlineMs) {
        t.cutShort = true;
        return;
      }
      const next = iterator.next();
      if (next.done) return;
      const c = next.value;
      const send = c.http ? sendHttp : sendRaw;
      record(c, await send(c, { ...o, port: o.ports[c.target] }));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  t.durationMs = Date.now() - started;
  return t;
}

import {
  Subjects,
  type ListReply,
  type ProxyStreamsReply,
  type StreamEnded,
  type StreamStarted,
} from '@acefleet/contracts';
import { storedEvents, type Stack } from '@acefleet/testkit';

/** Whether what the proxy plays, what JetStream stored, what stats counts and what the manager holds agree. */
export interface Audit {
  /** Starts or ends missing: in JetStream or in stats, against the proxy's own streams. */
  eventsLost: number;
  /** Streams with more than one stored start or end. */
  duplicates: number;
  /** Claims at the manager no proxy stream stands for. */
  claimsLeftOver: number;
  /** Proxy streams on an engine where the manager holds no claim for them (the engine looks freer than it is). */
  claimsMissing: number;
  /** What was missing, for the report. */
  detail: string;
}

interface Totals {
  sessionsStarted: number;
  sessionsEnded: number;
}

async function json<T>(url: string, apiKey: string): Promise<T> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${apiKey}` },
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

async function engines(stack: Stack): Promise<ListReply['engines']> {
  const nc = await stack.nats.connect();
  try {
    return (await nc.request(Subjects.engineList, '{}', { timeout: 5000 })).json<ListReply>().engines;
  } finally {
    await nc.close();
  }
}

const countById = (ids: string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

/**
 * One comparison. Lost: a stream the proxy plays with no stored start, a stored start whose stream the proxy
 * no longer plays with no stored end, and stats' session counts short of the distinct stored starts and ends.
 * Left over: per engine, claims beyond the proxy's streams on it.
 */
export async function audit(stack: Stack): Promise<Audit> {
  const proxy = await json<ProxyStreamsReply>(`${stack.proxyUrl()}/api/streams`, stack.apiKey);
  const totals = await json<Totals>(`${stack.services.stats!.url}/api/totals`, stack.apiKey);
  const started = countById(
    (await storedEvents<StreamStarted>(stack.nats, Subjects.streamStarted)).map((e) => e.data.streamId),
  );
  const ended = countById(
    (await storedEvents<StreamEnded>(stack.nats, Subjects.streamEnded)).map((e) => e.data.streamId),
  );
  const playing = proxy.streams.filter((s) => s.state === 'playing');
  const live = new Set(proxy.streams.map((s) => s.streamId));
  const startMissing = playing.filter((s) => !started.has(s.streamId)).length;
  const endMissing = [...started.keys()].filter((id) => !live.has(id) && !ended.has(id)).length;
  const statsStartsShort = Math.max(0, started.size - totals.sessionsStarted);
  const statsEndsShort = Math.max(0, ended.size - totals.sessionsEnded);
  const duplicates = [...started.values(), ...ended.values()].filter((n) => n > 1).length;

  const onEngine = countById(playing.flatMap((s) => (s.engineId ? [s.engineId] : [])));
  let claimsLeftOver = 0;
  let claimsHeld = 0;
  for (const e of await engines(stack)) {
    claimsLeftOver += Math.max(0, e.claims.length - (onEngine.get(e.id) ?? 0));
    claimsHeld += Math.min(e.claims.length, onEngine.get(e.id) ?? 0);
  }

  return {
    eventsLost: startMissing + endMissing + statsStartsShort + statsEndsShort,
    duplicates,
    claimsLeftOver,
    claimsMissing: playing.filter((s) => s.engineId).length - claimsHeld,
    detail:
      `proxy ${playing.length}/${proxy.streams.length} playing; stored starts ${started.size}, ends ${ended.size}; ` +
      `stats ${totals.sessionsStarted}/${totals.sessionsEnded}; missing start ${startMissing}, missing end ${endMissing}; claims held ${claimsHeld}`,
  };
}

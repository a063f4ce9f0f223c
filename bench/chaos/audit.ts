import {
  Subjects,
  contentKeyOf,
  type EngineRecord,
  type ProxyLost,
  type ProxyStream,
  type ProxyStreamsReply,
  type StreamEnded,
  type StreamStarted,
  streamEventsOf,
} from '@acefleet/contracts';
import { listEngines, storedEvents, type Stack, type StackNats } from '@acefleet/testkit';

/** Whether what the proxy plays, what JetStream stored, what stats counts and what the manager holds agree. */
export interface Audit {
  /** Starts or ends missing: in JetStream or in stats, against the proxy's own streams. */
  eventsLost: number;
  /** Streams with more than one stored start or end, plus sessions stats counted beyond the stored ones. */
  duplicates: number;
  /** Claims at the manager no proxy stream stands for (same engine, proxy instance and content). */
  claimsLeftOver: number;
  /** Claims beyond their engine's capacity, summed over engines. */
  claimsOverCapacity: number;
  /** Playing proxy streams the manager holds no claim for on their engine (the engine looks freer than it is). */
  claimsMissing: number;
  /** What was missing, for the report. */
  detail: string;
  /**
   * Each playing stream whose engine record holds no claim under the stream's claim id: which proxy plays it,
   * on which engine, under which claim, and the claims (id@proxy) the record holds instead.
   */
  unclaimed: string[];
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

/** A proxy's stream, the proxy instance (the `proxyId` of its claims and events) and which proxy plays it. */
type OwnedStream = ProxyStream & { proxyId: string; proxy: number };

/** The streams of every proxy instance still running (a killed one has nothing to report any more). */
async function proxyStreams(stack: Stack<StackNats>): Promise<OwnedStream[]> {
  const replies = await Promise.all(
    stack.instances.proxy.map(async (p, proxy) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return [];
      const { streams } = await json<ProxyStreamsReply>(`${p.url}/api/streams`, stack.apiKey);
      return streams.map((s) => ({ ...s, proxy, proxyId: p.instanceId }));
    }),
  );
  return replies.flat();
}

/** A playing stream whose engine record holds no claim under its claim id, told in one line. */
function unclaimed(playing: OwnedStream[], engines: EngineRecord[]): string[] {
  const byId = new Map(engines.map((e) => [e.id, e]));
  return playing.flatMap((s) => {
    const record = s.engineId ? byId.get(s.engineId) : undefined;
    if (record?.claims.some((c) => c.claimId === s.claimId)) return [];
    const held = record ? record.claims.map((c) => `${c.claimId}@${c.proxyId}`).join(',') : 'no record';
    return [`proxy ${s.proxy} stream ${s.streamId} engine ${s.engineId} claim ${s.claimId} holds [${held}]`];
  });
}

/** What ties a claim to the stream it stands for: its engine, its proxy instance and its content. */
const claimKey = (engineId: string, proxyId: string, contentKey: string): string =>
  `${engineId} ${proxyId} ${contentKey}`;

const countById = (ids: string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

/**
 * One comparison, over every running proxy of the stack. Lost: a stream a proxy plays with no stored start, a
 * stored start whose stream no proxy plays any more with no stored end (its own, or stats' proxy.lost for its
 * proxy), and stats' session counts short of the distinct stored starts and ends. Left over: claims no stream of the same proxy instance and content
 * stands for on that engine; missing: playing streams without such a claim.
 */
export async function audit(stack: Stack<StackNats>): Promise<Audit> {
  const streams = await proxyStreams(stack);
  const totals = await json<Totals>(`${stack.services.stats!.url}/api/totals`, stack.apiKey);
  const starts = (await storedEvents<StreamStarted>(stack.nats, streamEventsOf('started'))).map(
    (e) => e.data,
  );
  const started = countById(starts.map((s) => s.streamId));
  // A stream ends by its proxy's ended event, or (its proxy killed) by stats' proxy.lost for that proxy.
  const lost = (await storedEvents<ProxyLost>(stack.nats, Subjects.proxyLost)).map((e) => e.data);
  const endedByLoss = starts.filter((s) =>
    lost.some((l) => l.proxyId === s.proxyId && Date.parse(s.startedAt) <= Date.parse(l.at)),
  );
  const ended = countById(
    (await storedEvents<StreamEnded>(stack.nats, streamEventsOf('ended'))).map((e) => e.data.streamId),
  );
  // Counted once: the proxy's own late end (it was only cut off) and the loss are one end.
  for (const s of endedByLoss) if (!ended.has(s.streamId)) ended.set(s.streamId, 1);
  const playing = streams.filter((s) => s.state === 'playing');
  const live = new Set(streams.map((s) => s.streamId));
  const startMissing = playing.filter((s) => !started.has(s.streamId)).length;
  const endMissing = [...started.keys()].filter((id) => !live.has(id) && !ended.has(id)).length;
  const statsStartsShort = Math.max(0, started.size - totals.sessionsStarted);
  const statsEndsShort = Math.max(0, ended.size - totals.sessionsEnded);
  const statsCountedTwice =
    Math.max(0, totals.sessionsStarted - started.size) + Math.max(0, totals.sessionsEnded - ended.size);
  const duplicates = [...started.values(), ...ended.values()].filter((n) => n > 1).length + statsCountedTwice;

  // A claim left over by one proxy instance and a stream of another on the same engine must not cancel out.
  const keyOf = (s: OwnedStream): string[] =>
    s.engineId ? [claimKey(s.engineId, s.proxyId, contentKeyOf(s.content))] : [];
  const standing = countById(streams.flatMap(keyOf));
  const held = new Map<string, number>();
  let claimsLeftOver = 0;
  let claimsOverCapacity = 0;
  let standbyClaims = 0;
  const engines = await listEngines(stack.nats);
  for (const e of engines) {
    claimsOverCapacity += Math.max(0, e.claims.length - e.capacity);
    for (const c of e.claims) {
      // A hot standby is a second session of a playing stream, on another engine: no stream stands for it there.
      if (c.standby) {
        standbyClaims++;
        continue;
      }
      const key = claimKey(e.id, c.proxyId, c.contentKey);
      held.set(key, (held.get(key) ?? 0) + 1);
      if ((held.get(key) ?? 0) > (standing.get(key) ?? 0)) claimsLeftOver++;
    }
  }
  let claimsHeld = 0;
  for (const key of playing.flatMap(keyOf)) {
    if ((held.get(key) ?? 0) > 0) {
      claimsHeld++;
      held.set(key, held.get(key)! - 1);
    }
  }

  return {
    eventsLost: startMissing + endMissing + statsStartsShort + statsEndsShort,
    duplicates,
    claimsLeftOver,
    claimsOverCapacity,
    claimsMissing: playing.filter((s) => s.engineId).length - claimsHeld,
    unclaimed: unclaimed(playing, engines),
    detail:
      `proxies ${playing.length}/${streams.length} playing; stored starts ${started.size}, ends ${ended.size}; ` +
      `stats ${totals.sessionsStarted}/${totals.sessionsEnded}; missing start ${startMissing}, missing end ${endMissing}; claims held ${claimsHeld}, standby claims ${standbyClaims}`,
  };
}

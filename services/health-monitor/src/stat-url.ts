import type { EngineRecord, StreamStarted } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';

/**
 * Whether the monitor may read a stream's stat URL: it lies under the base URL of the engine the stream plays
 * on (that engine's record in the engines bucket, which only managers write), and that engine lies where
 * engines may be (`engineAllowed`, ENGINE_ADDRESSES). The URL itself comes from a proxy's event: read
 * without this check, a stream.started naming any URL made the monitor fetch it on every tick (a blind
 * SSRF). A refused stream is reported once, and its streams of engines not known (yet) are retried.
 */
export function statUrlFilter(
  engineOf: (engineId: string) => EngineRecord | undefined,
  engineAllowed: (engine: EngineRecord) => boolean,
  log: Logger,
): (stream: StreamStarted) => boolean {
  const reported = new Set<string>();
  return (stream) => {
    const engine = engineOf(stream.engineId);
    if (!stream.statUrl || !engine || !engineAllowed(engine)) return false;
    const base = engine.baseUrl.replace(/\/+$/, '');
    if (stream.statUrl.startsWith(`${base}/`)) return true;
    const key = `${stream.streamId} ${stream.statUrl}`;
    if (!reported.has(key)) {
      reported.add(key);
      log.warn(
        { streamId: stream.streamId, proxyId: stream.proxyId, engineId: stream.engineId },
        "stat URL not on its engine's base URL: never read",
      );
    }
    return false;
  };
}

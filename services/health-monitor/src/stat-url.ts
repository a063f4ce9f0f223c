import { staticEngineUrl, type EngineRecord, type StreamStarted } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';

/**
 * Whether the monitor may read a stream's stat URL: it lies under the base URL of the engine the stream plays
 * on, and that engine lies where engines may be (`engineAllowed`, ENGINE_ADDRESSES). The engine is its record
 * in the engines bucket (which only managers write), or, for a proxy's static engine (`static:<base URL>`,
 * no record), the base URL its id names, which ENGINE_ADDRESSES must then list. The URL itself comes from a
 * proxy's event: read without this check, a stream.started naming any URL made the monitor fetch it on every
 * tick (a blind SSRF). A refused stream is reported once; streams of engines not known (yet) are retried.
 */
export function statUrlFilter(
  engineOf: (engineId: string) => Pick<EngineRecord, 'id' | 'baseUrl'> | undefined,
  engineAllowed: (engine: Pick<EngineRecord, 'id' | 'baseUrl'>) => boolean,
  log: Logger,
): (stream: StreamStarted) => boolean {
  const reported = new Set<string>();
  const find = (id: string): Pick<EngineRecord, 'id' | 'baseUrl'> | undefined => {
    const staticUrl = staticEngineUrl(id);
    return staticUrl === undefined ? engineOf(id) : { id, baseUrl: staticUrl };
  };
  return (stream) => {
    const engine = find(stream.engineId);
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

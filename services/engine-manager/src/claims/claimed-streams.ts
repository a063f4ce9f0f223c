import type { ClaimedStream, EngineRecord } from '@acefleet/contracts';

export interface StreamFilter {
  engine?: string;
  /** A 40-hex content id or infohash, or a full content key (`id:<hex>`). */
  content?: string;
  proxy?: string;
  host?: string;
}

function matchesContent(contentKey: string, content: string): boolean {
  const wanted = content.toLowerCase();
  return contentKey === wanted || contentKey.endsWith(`:${wanted}`);
}

/**
 * The streams of the fleet as the engines bucket knows them: every claim a proxy holds on an engine. It is
 * the manager's own record (no proxy is asked), so a proxy that died shows its streams until their
 * claims expire (CLAIM_TTL_MS).
 */
export function claimedStreams(records: EngineRecord[], f: StreamFilter): ClaimedStream[] {
  return records
    .filter(
      (r) => (f.engine === undefined || r.id === f.engine) && (f.host === undefined || r.hostId === f.host),
    )
    .flatMap((r) =>
      r.claims.map((c) => ({
        id: c.claimId,
        engineId: r.id,
        hostId: r.hostId,
        proxyId: c.proxyId,
        contentKey: c.contentKey,
        claimedAt: c.claimedAt,
        ...(c.renewedAt ? { renewedAt: c.renewedAt } : {}),
      })),
    )
    .filter(
      (s) =>
        (f.proxy === undefined || s.proxyId === f.proxy) &&
        (f.content === undefined || matchesContent(s.contentKey, f.content)),
    );
}

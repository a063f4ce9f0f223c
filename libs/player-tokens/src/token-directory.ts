import type { NatsConnection } from '@nats-io/nats-core';
import { AcefleetError, PlayerTokenRecord, TOKENS_BUCKET } from '@acefleet/contracts';
import { KvMirror, type Logger } from '@acefleet/platform';
import { checkPresentedToken, tokenDigest } from './tokens.ts';

/**
 * The tokens bucket (it must exist: openTokensKv makes it) as a proxy checks players against it: a live copy indexed by digest, so a check costs
 * one hash and one map look-up, and a revocation applies as soon as the copy sees it (within 250 ms).
 */
export class TokenDirectory {
  private readonly mirror: KvMirror<typeof PlayerTokenRecord>;
  private readonly byDigest = new Map<string, PlayerTokenRecord>();
  /** Set once the snapshot is in: deletions before that are no revocations anyone needs to hear of. */
  private following = false;

  /** `onRevoked`: told the name of each token deleted after start. */
  constructor(nc: NatsConnection, log: Logger, onRevoked: (name: string) => void = () => {}) {
    this.mirror = new KvMirror(nc, TOKENS_BUCKET, log, {
      schema: PlayerTokenRecord,
      what: 'player token',
      onChange: (name, record) => {
        for (const [digest, r] of this.byDigest) if (r.name === name) this.byDigest.delete(digest);
        if (record) this.byDigest.set(record.sha256, record);
        else if (this.following) onRevoked(name);
      },
    });
  }

  async start(): Promise<void> {
    await this.mirror.start();
    this.following = true;
  }

  stop(): Promise<void> {
    return this.mirror.stop();
  }

  /** The token's record, or `invalid_token` (malformed, unknown or revoked; never saying which one it was). */
  verify(token: string): PlayerTokenRecord {
    const record = this.byDigest.get(tokenDigest(checkPresentedToken(token)));
    if (!record) throw new AcefleetError('invalid_token', 'unknown or revoked token');
    return record;
  }

  get size(): number {
    return this.byDigest.size;
  }
}

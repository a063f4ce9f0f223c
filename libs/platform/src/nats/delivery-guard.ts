import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from '../logger.ts';

/** Whether `subject` matches `pattern`, NATS wildcards included (`*` one token, `>` one or more at the end). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return got.length > i;
    if (i >= got.length || (want[i] !== '*' && want[i] !== got[i])) return false;
  }
  return got.length === want.length;
}

/** What a subscriber sees of a message: enough to tell who put it there. */
export type SeenMsg = Pick<Msg, 'subject' | 'reply' | 'headers'>;

/**
 * Why a message on `served` must not be acted on, or undefined when it may. JetStream can put stored messages
 * on subjects nobody who wrote them may publish to: a push consumer delivers to its deliver subject, which
 * nats-server 2.9 does not check against its creator's rights, keeping each message's own subject and giving
 * it a `$JS.ACK.…` reply; a stream's republish sends it with `Nats-Stream` headers and no reply. Neither is
 * a request or an event from someone allowed to publish on `served`. A request endpoint also needs a reply
 * subject: a request without one comes from no requester.
 */
export function deliveryRefusal(msg: SeenMsg, served: string, kind: 'request' | 'event'): string | undefined {
  if (!subjectMatches(served, msg.subject))
    return `subject ${msg.subject} is not ${served}: a JetStream delivery`;
  if (msg.reply?.startsWith('$JS.')) return 'a JetStream delivery (reply under $JS.)';
  if (msg.headers?.has('Nats-Stream')) return 'a message republished by a stream (Nats-Stream header)';
  if (kind === 'request' && !msg.reply) return 'a request without a reply subject';
  return undefined;
}

/** At most one refusal log line per subject this often (a push consumer can deliver a whole stream). */
const LOG_EVERY_MS = 10_000;

/**
 * deliveryRefusal with a log: the first refusal on a subject is logged at once, the next ones at most once
 * per LOG_EVERY_MS with how many were refused meanwhile.
 */
export class DeliveryGuard {
  private readonly lastLogged = new Map<string, { at: number; refused: number }>();

  constructor(private readonly log: Logger) {}

  /** True when `msg` must be dropped (it has been logged); false when it may be handled. */
  refuses(msg: SeenMsg, served: string, kind: 'request' | 'event'): boolean {
    const why = deliveryRefusal(msg, served, kind);
    if (why === undefined) return false;
    const now = Date.now();
    const seen = this.lastLogged.get(served) ?? { at: 0, refused: 0 };
    seen.refused++;
    if (now - seen.at >= LOG_EVERY_MS) {
      this.log.warn(
        { subject: served, why, refused: seen.refused },
        'refused a message not sent to this subject',
      );
      seen.at = now;
      seen.refused = 0;
    }
    this.lastLogged.set(served, seen);
    return true;
  }
}

/**
 * A core subscription to event subject `subject` whose callback sees only messages published on it, never
 * JetStream deliveries or republished copies (see deliveryRefusal).
 */
export function subscribeEvents(
  nc: NatsConnection,
  subject: string,
  log: Logger,
  onEvent: (msg: Msg) => void,
): Subscription {
  const guard = new DeliveryGuard(log);
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) log.warn({ err, subject }, 'event subscription failed');
      else if (!guard.refuses(msg, subject, 'event')) onEvent(msg);
    },
  });
}

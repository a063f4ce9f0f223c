import { createInbox, type Msg } from '@nats-io/nats-core';
import { AcefleetError, AcquireReply, proxyCallSubject, type AcquireRequest } from '@acefleet/contracts';
import { decodeReply, encodeJson, inboxPrefixFor, type NatsConnection } from '@acefleet/platform';

/**
 * How long a grant is still listened for after the proxy stopped waiting: the manager's default claim TTL,
 * after which a claim nobody renews is dropped by the manager anyway.
 */
const LATE_GRANT_WAIT_MS = 90_000;

/**
 * Ask the engine manager for an engine, waiting `opts.timeoutMs` (the request carries that deadline, which the
 * manager honours). The reply comes to an inbox of our own rather than through nc.request, so that a grant
 * arriving after we stopped waiting (a manager paused or overloaded) is still seen and handed to `lateGrant`
 * to be released at once, instead of being dropped by NATS and leaving a claim held by no one.
 */
export function requestAcquire(
  nc: NatsConnection,
  body: Omit<AcquireRequest, 'deadline'>,
  opts: { timeoutMs: number },
  lateGrant: (reply: AcquireReply) => void,
): Promise<AcquireReply> {
  const { timeoutMs } = opts;
  const subject = proxyCallSubject('acquire', body.proxyId);
  // Under this connection's own prefix: a service user may subscribe to no other inbox.
  const inbox = createInbox(inboxPrefixFor(nc));
  return new Promise((resolve, reject) => {
    let waiting = true;
    const giveUp = (why: string): void => {
      waiting = false;
      clearTimeout(timer);
      reject(new AcefleetError('control_plane_unavailable', `${subject}: ${why}`, { retryAfterMs: 1000 }));
    };
    const onReply = (msg: Msg): void => {
      if (msg.headers?.code === 503) {
        if (waiting) giveUp('no responders');
        return;
      }
      if (!waiting) {
        try {
          lateGrant(decodeReply(subject, msg, AcquireReply));
        } catch {
          // A late refusal holds nothing: there is nothing to give back.
        }
        return;
      }
      waiting = false;
      clearTimeout(timer);
      try {
        resolve(decodeReply(subject, msg, AcquireReply));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const sub = nc.subscribe(inbox, {
      max: 1,
      callback: (err, msg) => {
        if (!err) onReply(msg);
        else if (waiting) giveUp(err.message);
      },
    });
    const timer = setTimeout(() => {
      giveUp('timed out');
      setTimeout(() => sub.unsubscribe(), LATE_GRANT_WAIT_MS).unref();
    }, timeoutMs);
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    try {
      nc.publish(subject, encodeJson({ ...body, deadline }), { reply: inbox });
    } catch (err) {
      sub.unsubscribe();
      giveUp(err instanceof Error ? err.message : 'publish failed');
    }
  });
}

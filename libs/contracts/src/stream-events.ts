import type { Static, TSchema } from '@sinclair/typebox';
import { AcefleetError } from './errors.ts';
import { decodeMessage } from './schemas.ts';
import { parsePlayerEventSubject, parseStreamEventSubject } from './subjects.ts';

/**
 * Decode a proxy's stream or player event that came on `subject`, and check who sent it: only proxy `<name>`
 * may publish under `acefleet.events.{stream,player}.<kind>.<name>.<run>`, so the proxy id in the subject is the sender, and the
 * body must name the same one. A body naming another proxy is refused as invalid_message.
 */
export function decodeStreamEvent<T extends TSchema>(
  schema: T,
  subject: string,
  data: Uint8Array | string,
  what: string,
): Static<T> {
  const event = decodeMessage(schema, data, what);
  const sender = (parseStreamEventSubject(subject) ?? parsePlayerEventSubject(subject))?.proxyId;
  const named = (event as { proxyId?: unknown }).proxyId;
  if (sender === undefined || named !== sender) {
    throw new AcefleetError(
      'invalid_message',
      `invalid ${what}: it names proxy ${JSON.stringify(named)} but came on ${subject.slice(0, 300)}`,
    );
  }
  return event;
}

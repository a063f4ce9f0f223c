import type { NatsConnection } from '@nats-io/nats-core';
import { contentKeyOf, type ContentRef } from '@acefleet/contracts';
import { readChannels } from '@acefleet/channels';

/**
 * Channel names by content, from the channels bucket, so tables show `Sport 1` rather than a hash. No
 * bucket yet (nothing imported) or no right to read it: no names, the content is shown instead.
 */
export async function channelNames(nc: NatsConnection): Promise<(content: ContentRef) => string> {
  const byContent = new Map<string, string>();
  try {
    for (const channel of (await readChannels(nc)).values())
      byContent.set(contentKeyOf(channel.content), channel.name);
  } catch {
    // Names are a nicety of the table: without them the content key is shown.
  }
  return (content) => byContent.get(contentKeyOf(content)) ?? contentKeyOf(content);
}

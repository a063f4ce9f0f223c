import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AcefleetError } from '@acefleet/contracts';
import { errorResponse, toAcefleetError } from '@acefleet/platform';
import type { StreamHub } from '../hub.ts';
import { parseSelector } from '../selector.ts';

type Query = Record<string, string | string[] | undefined>;

/** Write a catalogue error on a hijacked response (fastify no longer sends for us). */
function writeError(res: ServerResponse, err: AcefleetError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(err);
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** GET /ace/getstream: Acexy-compatible MPEG-TS, one upstream per content shared by every player. */
export function streamRoutes(app: FastifyInstance, hub: StreamHub, isClosing: () => boolean): void {
  for (const url of ['/ace/getstream', '/ace/getstream/']) {
    app.route<{ Querystring: Query }>({
      method: 'GET',
      url,
      exposeHeadRoute: false,
      handler: async (req, reply) => {
        const requestedAt = process.hrtime.bigint();
        const selector = parseSelector(req.query);
        if (isClosing())
          throw new AcefleetError('shutting_down', 'the proxy is shutting down', { retryAfterMs: 1000 });
        const stream = hub.open(selector.content, selector.extraParams);
        reply.hijack();
        try {
          await stream.attach(req.raw.socket, requestedAt);
        } catch (err) {
          const mapped = toAcefleetError(err);
          req.log.info({ code: mapped.code, content: selector.content.value }, 'stream request failed');
          writeError(reply.raw, mapped);
        }
      },
    });
    app.head<{ Querystring: Query }>(url, async (req, reply) => {
      parseSelector(req.query);
      return reply.code(200).type('video/mp2t').send();
    });
  }
}

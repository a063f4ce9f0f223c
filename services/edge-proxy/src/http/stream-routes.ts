import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AcefleetError } from '@acefleet/contracts';
import { errorResponse, toAcefleetError } from '@acefleet/platform';
import type { Admission } from '../admission/admission.ts';
import type { StreamHub } from '../session/hub.ts';
import { checkLiveRange } from '../players/live-range.ts';
import { playerOf } from '../players/player-gate.ts';
import type { PlayerSessions } from '../players/player-sessions.ts';
import { playerSelector, type Query } from './player-request.ts';

/** Write a catalogue error on a hijacked response (fastify no longer sends for us). */
function writeError(res: ServerResponse, err: AcefleetError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(err);
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** GET /ace/getstream: Acexy-compatible MPEG-TS, one upstream per stream key shared by every player. */
export function streamRoutes(
  app: FastifyInstance,
  hub: StreamHub,
  admission: Admission,
  players: PlayerSessions,
  isClosing: () => boolean,
): void {
  for (const url of ['/ace/getstream', '/ace/getstream/']) {
    app.route<{ Querystring: Query }>({
      method: 'GET',
      url,
      exposeHeadRoute: false,
      handler: async (req, reply) => {
        const requestedAt = process.hrtime.bigint();
        const sentBefore = req.raw.socket.bytesWritten;
        const selector = playerSelector(req);
        checkLiveRange(req);
        if (isClosing())
          throw new AcefleetError('shutting_down', 'the proxy is shutting down', { retryAfterMs: 1000 });
        const player = playerOf(req);
        const opensStream = hub.get(selector.key) === undefined;
        const release = admission.admit(player.client, selector.key, { opensStream, asPlayer: true });
        reply.raw.once('close', release);
        const stream = hub.open(selector);
        reply.hijack();
        try {
          const viewer = await stream.attach(req.raw.socket, requestedAt);
          if (viewer) players.trackTs(player, stream, req.raw.socket, sentBefore);
        } catch (err) {
          const mapped = toAcefleetError(err);
          req.log.info({ code: mapped.code, content: selector.content.value }, 'stream request failed');
          writeError(reply.raw, mapped);
        }
      },
    });
    // Players and media servers probe with HEAD (Jellyfin checks the type before sharing a stream): the
    // answer's headers, and no engine session.
    app.head<{ Querystring: Query }>(url, async (req, reply) => {
      playerSelector(req);
      checkLiveRange(req);
      return reply.code(200).type('video/mp2t').header('accept-ranges', 'none').send();
    });
  }
}

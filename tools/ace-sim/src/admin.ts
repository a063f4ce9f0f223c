// The simulator's own API under /__sim: faults, counters, reset and forced expiry.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.ts';
import { HEX40 } from './content.ts';
import { FaultError, parseFaultPatch, type PatchMode } from './faults.ts';
import { readJson, sendAdminError, sendJson } from './http.ts';

const CONTENT = /^\/__sim\/faults\/content\/([^/]+)$/;
const EXPIRE = /^\/__sim\/sessions\/([^/]+)\/expire$/;

export async function handleAdmin(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  const mode: PatchMode = url.searchParams.get('mode') === 'replace' ? 'replace' : 'merge';
  const contentKey = CONTENT.exec(url.pathname)?.[1];
  const expireId = EXPIRE.exec(url.pathname)?.[1];
  try {
    if (route === 'GET /__sim/faults') return sendJson(res, 200, ctx.faults.snapshot());
    if (route === 'PUT /__sim/faults') {
      ctx.faults.setGlobal(parseFaultPatch(await readJson(req)), mode);
      ctx.log({ faults: ctx.faults.snapshot().global }, 'faults set');
      return sendJson(res, 200, ctx.faults.snapshot());
    }
    if (contentKey !== undefined && (req.method === 'PUT' || req.method === 'DELETE')) {
      if (!HEX40.test(contentKey)) return sendAdminError(res, 400, 'BAD_KEY', 'content key must be 40 hex');
      if (req.method === 'PUT') ctx.faults.setContent(contentKey, parseFaultPatch(await readJson(req)), mode);
      else ctx.faults.clearContent(contentKey);
      ctx.log({ contentKey }, 'content faults set');
      return sendJson(res, 200, ctx.faults.snapshot());
    }
    if (route === 'POST /__sim/reset') {
      ctx.faults.reset();
      ctx.sessions.reset();
      ctx.log({}, 'reset');
      return sendJson(res, 200, { ok: true });
    }
    if (route === 'GET /__sim/stats') return sendJson(res, 200, ctx.sessions.stats());
    if (route === 'GET /__sim/config') {
      const { bitrateBps } = ctx.media;
      return sendJson(res, 200, { ...ctx.settings, mediaBitrateBps: bitrateBps });
    }
    if (expireId !== undefined && req.method === 'POST') {
      const session = ctx.sessions.byId(expireId);
      if (!session) return sendAdminError(res, 404, 'NO_SESSION', `no active session ${expireId}`);
      ctx.sessions.end(session, 'expired');
      return sendJson(res, 200, { ok: true });
    }
    sendAdminError(res, 404, 'NOT_FOUND', `no admin route ${route}`);
  } catch (err) {
    if (err instanceof FaultError) return sendAdminError(res, 400, err.code, err.message);
    if (err instanceof SyntaxError) return sendAdminError(res, 400, 'BAD_JSON', err.message);
    throw err;
  }
}

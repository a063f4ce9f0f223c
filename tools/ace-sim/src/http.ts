// Answer shapes: the engine's envelopes and the admin API's errors.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The `/ace/*` envelope: HTTP 200 even on error, as real engines do. */
export function sendAce(
  res: ServerResponse,
  response: unknown,
  error: string | null = null,
  status = 200,
): void {
  sendJson(res, status, { response, error });
}

/** The `/server/api` and `/webui/api/service` envelope. */
export function sendResult(res: ServerResponse, result: unknown, error: string | null = null): void {
  sendJson(res, 200, { result, error });
}

export function sendAdminError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** Answers carry the host the caller connected to, as a proxy would rewrite them anyway. */
export function baseUrl(req: IncomingMessage): string {
  const host = req.headers.host ?? `${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? 0}`;
  return `http://${host}`;
}

export function gone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

const MAX_BODY = 64 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new SyntaxError('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';

/** Where the dashboard's files are when stats runs from its sources. */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const FILE = /^[a-z0-9-]+\.(html|js|css|svg)$/;

/** The dashboard: plain files, no build step, nothing from outside the machine. */
export function dashboardRoutes(app: FastifyInstance, dir = DEFAULT_PUBLIC_DIR): void {
  const send = async (name: string, type: string) =>
    readFile(path.join(dir, name)).then((body) => ({ body, type }));
  app.get('/', async (_req, reply) => {
    const { body, type } = await send('index.html', types['.html']!);
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const { file } = req.params;
    const ext = file.slice(file.lastIndexOf('.'));
    if (!FILE.test(file)) throw new AcefleetError('not_found', `no asset ${file}`);
    // A file that cannot be read is no asset: 404, as for any other name.
    const found = await send(file, types[ext]!).catch(() => undefined);
    if (!found) throw new AcefleetError('not_found', `no asset ${file}`);
    return reply.type(found.type).header('cache-control', 'no-cache').send(found.body);
  });
}

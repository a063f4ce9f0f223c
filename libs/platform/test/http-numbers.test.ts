import test from 'ava';
import { Type } from '@sinclair/typebox';
import { buildHttpApp, createLogger, createRegistry } from '@acefleet/platform';

// Pins the fuzz finding `GET /api/events?limit=1e309` → 500 (SQLite "datatype mismatch").
test('http - a query number that coerces to Infinity is a 400, not a 500 from the handler', async (t) => {
  const app = buildHttpApp({
    logger: createLogger('test', 'silent'),
    registry: createRegistry('test'),
    access: { apiKey: '', publicRead: false, httpHost: '127.0.0.1', httpAllowedHosts: '', corsOrigin: '' },
  });
  const Query = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) });
  app.get<{ Querystring: { limit: number } }>('/items', { schema: { querystring: Query } }, async (req) => {
    if (!Number.isFinite(req.query.limit)) throw new Error('Infinity reached the handler');
    return { limit: req.query.limit };
  });
  for (const limit of ['1e309', 'Infinity', '-Infinity']) {
    const res = await app.inject(`/items?limit=${limit}`);
    t.is(res.statusCode, 400, limit);
    t.is(res.json<{ error: { code: string } }>().error.code, 'bad_request');
  }
  t.deepEqual((await app.inject('/items?limit=7')).json(), { limit: 7 });
  await app.close();
});

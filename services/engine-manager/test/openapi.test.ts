import test from 'ava';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isolatedManager } from './helpers.ts';

/** The structure an OpenAPI 3.1 document must have, as far as acefleet's documents use it. */
const OpenApiShape = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      properties: { title: { type: 'string' }, version: { type: 'string' } },
    },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['get', 'put', 'post', 'delete', 'patch'] },
        additionalProperties: { $ref: '#/$defs/operation' },
      },
    },
    components: {
      type: 'object',
      required: ['securitySchemes'],
      properties: {
        securitySchemes: {
          type: 'object',
          additionalProperties: { type: 'object', required: ['type'] },
        },
      },
    },
  },
  $defs: {
    operation: {
      type: 'object',
      required: ['operationId', 'responses'],
      properties: {
        operationId: { type: 'string' },
        parameters: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'in', 'schema'],
            properties: { in: { enum: ['path', 'query', 'header', 'cookie'] } },
          },
        },
        requestBody: { type: 'object', required: ['content'] },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5][0-9X]{2}|default)$' },
          additionalProperties: {
            anyOf: [
              { type: 'object', required: ['$ref'] },
              { type: 'object', required: ['description'] },
            ],
          },
        },
        security: {
          type: 'array',
          items: { type: 'object', additionalProperties: { type: 'array' } },
        },
      },
    },
  },
};

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; schema: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  security: Record<string, string[]>[];
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
}

const ROUTES = [
  'GET /health',
  'GET /metrics',
  'GET /api/openapi.json',
  'GET /api/engines',
  'GET /api/streams',
  'GET /api/status',
  'GET /api/vpn',
  'POST /api/engines/provision',
  'POST /api/engines/scale',
  'POST /api/engines/upgrade',
  'POST /api/engines/{id}/drain',
  'DELETE /api/engines/{id}',
  'DELETE /api/streams/{id}',
];

test('openapi - the manager documents every route as OpenAPI 3.1, writes behind the bearer key', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t);
  const res = await m.manager.http.inject({ url: '/api/openapi.json' });
  t.is(res.statusCode, 200);
  const doc = res.json<Doc>();

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  t.true(ajv.validate(OpenApiShape, doc), ajv.errorsText());

  const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  );
  t.deepEqual(listed.sort(), [...ROUTES].sort(), 'every route, and only routes that exist');
  for (const route of listed) {
    const [method, path] = route.split(' ') as [string, string];
    const url = path.replace(/\{[^}]+\}/g, ':id');
    t.true(m.manager.http.hasRoute({ method, url }), `${route} is a route`);
  }

  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, op })),
  );
  const ids = operations.map(({ op }) => op.operationId);
  t.is(new Set(ids).size, ids.length, 'operation ids are unique');
  for (const { method, path, op } of operations) {
    const where = `${method} ${path}`;
    if (method === 'get') {
      t.false(
        op.security.some((s) => 'bearer' in s) && !op.security.some((s) => Object.keys(s).length === 0),
        `${where}: a read never demands the key`,
      );
    } else {
      t.deepEqual(op.security, [{ bearer: [] }], `${where}: a write needs the bearer key`);
      t.truthy(op.responses['401'] && op.responses['403'], `${where}: documents 401 and 403`);
    }
    for (const scheme of op.security.flatMap((s) => Object.keys(s))) {
      t.truthy(doc.components.securitySchemes[scheme], `${where}: ${scheme} is defined`);
    }
    const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]);
    const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    t.deepEqual(pathParams, inPath, `${where}: every path parameter is described`);
    const schemas = [
      ...(op.parameters ?? []).map((p) => p.schema),
      ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
      ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
    ];
    for (const schema of schemas) t.notThrows(() => ajv.compile(schema), `${where}: valid JSON Schema`);
  }
  t.truthy(doc.paths['/api/engines/scale']?.post?.requestBody, 'bodies come from the route schemas');
  t.deepEqual(
    doc.paths['/api/engines']?.get?.parameters?.map((p) => p.name),
    ['state', 'host'],
    'filters come from the querystring schemas',
  );
});

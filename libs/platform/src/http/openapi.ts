import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { ErrorEnvelope } from '@acefleet/contracts';
import { routeAccess, type Access } from './http-auth.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** What the route does, in one line, for the OpenAPI document. */
    summary?: string;
    /** Left out of the OpenAPI document (routes that only answer 405). */
    hide?: boolean;
  }
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

interface DocumentedRoute {
  method: string;
  url: string;
  access: Access;
  schema: FastifySchema;
}

type JsonObject = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema (TypeBox marks its schemas with symbol keys). */
function plain(schema: unknown): JsonObject {
  return JSON.parse(JSON.stringify(schema ?? {})) as JsonObject;
}

/** Open routes need nothing; reads need the key only off loopback without PUBLIC_READ; writes always. */
const SECURITY: Record<Access, JsonObject[]> = {
  open: [],
  read: [{}, { bearer: [] }],
  write: [{ bearer: [] }],
};

const ERROR = { $ref: '#/components/responses/Error' };

function parametersOf(schema: unknown, where: 'path' | 'query'): JsonObject[] {
  const s = plain(schema) as { properties?: JsonObject; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: property,
  }));
}

function requestBodyOf(schema: unknown): JsonObject {
  const body = plain(schema);
  const branches = (body.anyOf as JsonObject[] | undefined) ?? [body];
  return {
    required: !branches.some((b) => b.type === 'null'),
    content: { 'application/json': { schema: body } },
  };
}

function operationOf(route: DocumentedRoute): JsonObject {
  const { schema } = route;
  const responses: JsonObject = {};
  for (const [status, body] of Object.entries((schema.response ?? {}) as JsonObject)) {
    responses[status] = {
      description: STATUS_CODES[Number(status)] ?? status,
      content: { 'application/json': { schema: plain(body) } },
    };
  }
  if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
  if (route.access !== 'open') Object.assign(responses, { 401: ERROR, 403: ERROR });
  responses.default = ERROR;
  const parameters = [...parametersOf(schema.params, 'path'), ...parametersOf(schema.querystring, 'query')];
  return {
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[^A-Za-z0-9]+/g, '_')}`,
    ...(schema.summary ? { summary: schema.summary } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(schema.body ? { requestBody: requestBodyOf(schema.body) } : {}),
    responses,
    security: SECURITY[route.access],
  };
}

/** An OpenAPI 3.1 document (its schemas are JSON Schema 2020-12, as TypeBox writes them) of `routes`. */
export function openApiDocument(info: OpenApiInfo, routes: DocumentedRoute[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: "The service's API_KEY" },
      },
      responses: {
        Error: {
          description: 'An error from the catalogue: {"error":{"code","message"}}',
          content: { 'application/json': { schema: plain(ErrorEnvelope) } },
        },
      },
    },
  };
}

/**
 * Document every route added from now on (install it before them) and serve the document at
 * GET /api/openapi.json, built once on first request, when all routes exist.
 */
export function serveOpenApi(app: FastifyInstance, info: OpenApiInfo, openPaths: string[]): void {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (opts) => {
    if (opts.schema?.hide) return;
    for (const method of [opts.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      const access = routeAccess(method, opts.url, opts.config?.access, openPaths);
      routes.push({ method, url: opts.url, access, schema: opts.schema ?? {} });
    }
  });
  let document: JsonObject | undefined;
  app.get('/api/openapi.json', { schema: { summary: 'This OpenAPI document' } }, async () => {
    document ??= openApiDocument(info, routes);
    return document;
  });
}

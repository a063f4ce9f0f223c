/**
 * The configuration reference (docs/configuration.md), rendered from every service's TypeBox schema: one row
 * per property with its variable (envNameOf), type, default and description. `npm run docs:config` writes
 * it; tests/docs/configuration.test.ts fails when the file is out of date.
 */
import { format, resolveConfig } from 'prettier';
import type { TObject, TSchema } from '@sinclair/typebox';
import { CommonConfig, envNameOf } from '@acefleet/platform';
import { ProxyConfig } from '../services/edge-proxy/src/config.ts';
import { ManagerConfig } from '../services/engine-manager/src/config.ts';
import { MonitorConfig } from '../services/health-monitor/src/config.ts';
import { StatsConfig } from '../services/stats/src/config.ts';
import { StartConfig } from './lib/start-config.ts';

export const CONFIG_REFERENCE_PATH = 'docs/configuration.md';

const services: [string, TObject][] = [
  ['edge-proxy', ProxyConfig],
  ['engine-manager', ManagerConfig],
  ['health-monitor', MonitorConfig],
  ['stats', StatsConfig],
];

function typeOf(s: TSchema): string {
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).map((l) => `\`${String(l.const)}\``).join(', ');
  const { minimum: min, maximum: max } = s as { minimum?: number; maximum?: number };
  const range =
    min !== undefined && max !== undefined
      ? ` ${min}–${max}`
      : min !== undefined
        ? ` ≥ ${min}`
        : max !== undefined
          ? ` ≤ ${max}`
          : '';
  return `${String(s.type)}${range}`;
}

function defaultOf(s: TSchema): string {
  if (typeof s['x-default-doc'] === 'string') return s['x-default-doc'];
  if (s.default === '') return 'empty';
  return `\`${String(s.default)}\``;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(properties: [string, TSchema][]): string {
  const rows = properties.map(
    ([key, s]) =>
      `| \`${envNameOf(key)}\` | ${cell(typeOf(s))} | ${cell(defaultOf(s))} | ${cell(String(s.description ?? ''))} |`,
  );
  return ['| Variable | Type | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The whole document, formatted as `npm run format` would leave it. */
export async function renderConfigReference(): Promise<string> {
  const common = new Set(Object.keys(CommonConfig));
  const sections = services.map(([name, schema]) => {
    const own = Object.entries(schema.properties).filter(([key]) => !common.has(key) || key === 'httpPort');
    return `## ${name}\n\n${table(own)}`;
  });
  const text = [
    '# Configuration reference',
    '',
    'Generated from the TypeBox schemas (`services/<name>/src/config.ts`, `CommonConfig` in',
    '`libs/platform/src/config/config.ts`) by `npm run docs:config`; do not edit by hand. Each service reads these',
    'variables once at start-up; a bad value is named and the service exits with code 2. The variable name is',
    'the schema key in UPPER_SNAKE (`lingerMs` → `LINGER_MS`). Durations are in milliseconds (`_MS`), sizes in',
    'bytes (`_BYTES`). Settings of Acexy and acestream-orchestrator are also read: see',
    '[migrating.md](migrating.md).',
    '',
    '## Common to every service',
    '',
    table(Object.entries(CommonConfig).filter(([key]) => key !== 'httpPort')),
    '',
    ...sections.flatMap((s) => [s, '']),
    '## npm start',
    '',
    'Read by `scripts/start.ts` itself, for the files it writes (compose passes the same two to Docker: `LOG_FILES`',
    'and `LOG_FILE_MAX_SIZE`, e.g. `10m`).',
    '',
    table(Object.entries(StartConfig.properties)),
    '',
  ].join('\n');
  const options = await resolveConfig(CONFIG_REFERENCE_PATH);
  return format(text, { ...options, filepath: CONFIG_REFERENCE_PATH });
}

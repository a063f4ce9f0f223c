// Process config, read once: the real engine's flags (also from ACESTREAM_ARGS / EXTRA_FLAGS, as the common
// images pass them), the images' env (HTTP_PORT, BIND_ALL, ALLOW_REMOTE_ACCESS) and ACE_SIM_* for the simulation.
import { faultKinds, parseFaultText, type FaultPatch } from './faults.ts';
import { isProfileName, profileNames } from './profile.ts';
import type { SimulatorOptions } from './server.ts';

export interface SimConfig {
  httpPort: number;
  host: string;
  /** Refuse connections (do not listen) this long after start, like an engine still booting. */
  startupDelayMs: number;
  sim: SimulatorOptions;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'BAD_CONFIG';
}

type Env = Record<string, string | undefined>;

/** Flags that take a value; any other flag is a switch, and unknown ones are ignored. */
const VALUE_FLAGS = new Set([
  'http-port',
  'https-port',
  'port',
  'live-cache-type',
  'startup-delay-ms',
  'bitrate-bps',
  'burst-seconds',
  'media',
  'idle-timeout-ms',
  'clock-offset-ms',
  'profile',
  'seed',
  'fault',
]);

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a number >= 0, got "${text}"`);
  }
  return value;
}

function signed(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ConfigError(`${name} must be a number, got "${text}"`);
  return value;
}

function seed(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0 || value >= 2 ** 32) {
    throw new ConfigError(`seed must be an integer from 0 to 2^32 - 1, got "${text}"`);
  }
  return value;
}

function profile(text: string): string {
  if (!isProfileName(text)) {
    throw new ConfigError(`unknown profile "${text}" (known: ${profileNames.join(', ')})`);
  }
  return text;
}

function port(name: string, text: string): number {
  const value = number(name, text);
  if (!Number.isInteger(value) || value > 65535)
    throw new ConfigError(`${name} must be a port, got "${text}"`);
  return value;
}

const truthy = (text: string | undefined): boolean =>
  text !== undefined && !['', '0', 'false', 'no'].includes(text.toLowerCase());

const envName = (key: string): string =>
  `ACE_SIM_FAULT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

function parseFlags(args: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    let value = eq === -1 ? '' : arg.slice(eq + 1);
    if (eq === -1 && VALUE_FLAGS.has(name)) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`--${name} needs a value`);
      value = next;
      i++;
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return flags;
}

function faultsFrom(env: Env, cliFaults: string[]): FaultPatch {
  let faults: FaultPatch = {};
  for (const key of Object.keys(faultKinds)) {
    const text = env[envName(key)];
    if (text !== undefined) faults = { ...faults, ...parseFaultText(key, text) };
  }
  for (const item of cliFaults) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    faults = { ...faults, ...parseFaultText(key, eq === -1 ? 'true' : item.slice(eq + 1)) };
  }
  return faults;
}

export function parseConfig(argv: string[], env: Env): SimConfig {
  const split = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter(Boolean);
  const flags = parseFlags([...split(env.ACESTREAM_ARGS), ...split(env.EXTRA_FLAGS), ...argv]);
  const last = (name: string): string | undefined => flags.get(name)?.at(-1);
  const pick = (flag: string, envKey: string): string | undefined => last(flag) ?? env[envKey];

  const httpPortText = last('http-port') ?? env.HTTP_PORT;
  const bindAll = flags.has('bind-all') || truthy(env.BIND_ALL) || env.ALLOW_REMOTE_ACCESS === 'yes';
  const optional = <T>(text: string | undefined, parse: (t: string) => T): T | undefined =>
    text === undefined ? undefined : parse(text);

  const p2pPort = optional(last('port'), (t) => port('--port', t));
  const sim: SimulatorOptions = {
    faults: faultsFrom(env, flags.get('fault') ?? []),
    p2pPort: p2pPort ?? null,
  };
  const media = pick('media', 'ACE_SIM_MEDIA');
  if (media !== undefined) sim.mediaPath = media;
  const bitrate = optional(pick('bitrate-bps', 'ACE_SIM_BITRATE_BPS'), (t) => number('bitrate', t));
  if (bitrate !== undefined) sim.bitrateBps = bitrate;
  const burst = optional(pick('burst-seconds', 'ACE_SIM_BURST_SECONDS'), (t) => number('burst seconds', t));
  if (burst !== undefined) sim.burstSeconds = burst;
  const idle = optional(pick('idle-timeout-ms', 'ACE_SIM_IDLE_TIMEOUT_MS'), (t) => number('idle timeout', t));
  if (idle !== undefined) sim.idleTimeoutMs = idle;
  const offset = optional(pick('clock-offset-ms', 'ACE_SIM_CLOCK_OFFSET_MS'), (t) =>
    signed('clock offset', t),
  );
  if (offset !== undefined) sim.clockOffsetMs = offset;
  const profileName = optional(pick('profile', 'ACE_SIM_PROFILE'), profile);
  if (profileName !== undefined) sim.profile = profileName;
  const seedValue = optional(pick('seed', 'ACE_SIM_SEED'), seed);
  if (seedValue !== undefined) sim.seed = seedValue;
  if (sim.bitrateBps === 0) throw new ConfigError('bitrate must be > 0');

  return Object.freeze({
    httpPort: httpPortText === undefined ? 6878 : port('http port', httpPortText),
    host: bindAll ? '0.0.0.0' : '127.0.0.1',
    startupDelayMs: number('startup delay', pick('startup-delay-ms', 'ACE_SIM_STARTUP_DELAY_MS') ?? '0'),
    sim: Object.freeze(sim),
  });
}

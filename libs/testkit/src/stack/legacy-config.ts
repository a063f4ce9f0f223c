import { loadConfig, mapLegacyEnv, type LegacyRule } from '@acefleet/platform';

type Schema = Parameters<typeof loadConfig>[0];

/**
 * A service's config as it reads an environment written for the project it replaces (Acexy,
 * acestream-orchestrator): the legacy variables mapped by `rules`, then `schema` loaded, as bootService
 * does at start-up, without a process.
 */
export function legacyConfigOf<S extends Schema>(
  schema: S,
  rules: readonly LegacyRule[],
): (env: Record<string, string>) => ReturnType<typeof loadConfig<S>> {
  return (env) => loadConfig(schema, mapLegacyEnv(env, rules).env);
}

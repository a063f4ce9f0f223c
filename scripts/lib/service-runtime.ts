/**
 * How a bundled service's node process is run, for `npm start` (scripts/start.ts) and the benchmarks
 * (bench/processes.ts); deploy/compose.yml says the same for its edge-proxy. The proxy gets a small young
 * generation and two malloc arenas, which keep its memory low under fan-out (measured in bench/).
 */
export function serviceRuntime(name: string): { nodeFlags: string[]; env: Record<string, string> } {
  if (name !== 'edge-proxy') return { nodeFlags: [], env: {} };
  return { nodeFlags: ['--max-semi-space-size=2'], env: { MALLOC_ARENA_MAX: '2' } };
}

/**
 * The build input of deploy/Dockerfile, staged on the host in .run/services-image: the services bundled by
 * scripts/build-services.sh, the packages those bundles leave external (native modules) with their
 * dependencies, and the stats dashboard. Built on the host so the image build needs no registry.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Native modules' sources and build leftovers: not loaded at run time. */
const buildLeftover = /(^|\/)(obj|obj\.target|\.deps)(\/|$)|\.(a|o|c|cc|cpp|h|gyp|gypi|mk)$|(^|\/)Makefile$/;

/** The packages build-services.sh marks `--external:`, read from the script so the list lives once. */
function externalsOf(script: string): string[] {
  return [...readFileSync(script, 'utf8').matchAll(/--external:([\w@/.-]+)/g)].map((m) => m[1]!);
}

/** `names` and everything they depend on (optional dependencies only when installed), as node_modules dirs. */
function dependencyClosure(root: string, names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string, optional: boolean): void => {
    const dir = path.join(root, 'node_modules', name);
    if (seen.has(name)) return;
    if (!existsSync(path.join(dir, 'package.json'))) {
      if (optional) return;
      throw new Error(`${name} is not installed in node_modules (run npm ci)`);
    }
    seen.add(name);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, true);
  };
  for (const name of names) visit(name, true);
  return [...seen].sort();
}

/** Bundles the services and stages the image input; returns its directory. */
export function stageServicesImage(root: string): string {
  const script = path.join(root, 'scripts/build-services.sh');
  execFileSync('bash', [script], { cwd: root, stdio: 'inherit' });
  const out = path.join(root, '.run/services-image');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(path.join(root, '.run/dist'), path.join(out, 'dist'), { recursive: true });
  cpSync(path.join(root, 'services/stats/public'), path.join(out, 'stats-public'), { recursive: true });
  for (const name of dependencyClosure(root, externalsOf(script))) {
    cpSync(path.join(root, 'node_modules', name), path.join(out, 'node_modules', name), {
      recursive: true,
      dereference: true,
      filter: (src) => !buildLeftover.test(src),
    });
  }
  return out;
}

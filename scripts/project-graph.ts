/**
 * The package graph as nx sees it (`nx graph`), rendered into README.md between the project-graph markers.
 * `npm run docs:graph` rewrites that section; tests/docs/project-graph.test.ts fails when it is stale.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const README_PATH = 'README.md';
const START = '<!-- project-graph:start (npm run docs:graph) -->';
const END = '<!-- project-graph:end -->';

interface NxGraph {
  graph: {
    nodes: Record<string, { data: { root: string } }>;
    dependencies: Record<string, { target: string }[]>;
  };
}

/** nx's project graph: each project's root and the projects it depends on. */
function projectGraph(root: string): NxGraph['graph'] {
  const dir = mkdtempSync(path.join(tmpdir(), 'acefleet-graph-'));
  try {
    const file = path.join(dir, 'graph.json');
    execFileSync(path.join(root, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
    return (JSON.parse(readFileSync(file, 'utf8')) as NxGraph).graph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `project` needs `dep` at run time (package.json `dependencies`), not only for its tests. */
function runtimeDeps(root: string, projectRoot: string): Set<string> {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, projectRoot, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return new Set(Object.keys(pkg.dependencies ?? {}));
  } catch {
    return new Set(); // a project without package.json (system: tests, scripts, bench) runs nothing itself
  }
}

const short = (name: string): string => name.replace('@acefleet/', '');

/** The README section: a diagram of the run-time dependencies and the full list, test-only ones marked. */
export function renderProjectGraph(root: string): string {
  const graph = projectGraph(root);
  const names = Object.keys(graph.nodes)
    .filter((n) => n !== 'system')
    .sort((a, b) => graph.nodes[a]!.data.root.localeCompare(graph.nodes[b]!.data.root));
  const edges: string[] = [];
  const rows: string[] = [];
  for (const name of names) {
    const runtime = runtimeDeps(root, graph.nodes[name]!.data.root);
    const deps = (graph.dependencies[name] ?? []).map((d) => d.target).sort();
    for (const dep of deps) if (runtime.has(dep)) edges.push(`  ${short(name)} --> ${short(dep)}`);
    const listed = deps.map((d) => (runtime.has(d) ? `\`${short(d)}\`` : `\`${short(d)}\` (tests)`));
    rows.push(`| \`${graph.nodes[name]!.data.root}\` | ${listed.join(', ') || '—'} |`);
  }
  return [
    START,
    '',
    '```mermaid',
    'graph LR',
    ...edges,
    '```',
    '',
    '| Project | Depends on |',
    '| --- | --- |',
    ...rows,
    '',
    END,
  ].join('\n');
}

/** README.md with its project-graph section replaced by `section`. */
export function withGraphSection(readme: string, section: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${README_PATH} has no project-graph markers`);
  return readme.slice(0, from) + section + readme.slice(to + END.length);
}

/** The section as README.md has it now. */
export function graphSectionOf(readme: string): string {
  return readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length);
}

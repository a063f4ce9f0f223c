import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from '@acefleet/testkit';
import { graphSectionOf, README_PATH, renderProjectGraph } from '../../scripts/project-graph.ts';

test('docs - the package graph in README.md is the one nx graph shows (npm run docs:graph rewrites it)', async (t) => {
  const file = path.join(repoRoot, README_PATH);
  const options = { ...(await resolveConfig(file)), parser: 'markdown' };
  const rendered = await format(renderProjectGraph(repoRoot), options);
  t.is(graphSectionOf(await readFile(file, 'utf8')), rendered.trimEnd());
});

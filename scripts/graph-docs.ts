/** `npm run docs:graph`: write the package graph (nx graph) into README.md, then format it. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { README_PATH, renderProjectGraph, withGraphSection } from './project-graph.ts';

writeFileSync(
  README_PATH,
  withGraphSection(readFileSync(README_PATH, 'utf8'), renderProjectGraph(process.cwd())),
);
execFileSync('node_modules/.bin/prettier', ['--write', README_PATH], { stdio: 'ignore' });

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { repoRoot } from '@acefleet/testkit';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from '../../scripts/config-reference.ts';

test('docs - docs/configuration.md matches the config schemas (npm run docs:config rewrites it)', async (t) => {
  const written = await readFile(path.join(repoRoot, CONFIG_REFERENCE_PATH), 'utf8');
  t.is(written, await renderConfigReference());
});

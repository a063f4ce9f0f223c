import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { repoRoot } from '@acefleet/testkit';

/** The guides and the README that links them: every relative link and anchor in them must lead somewhere. */
const pages = [
  'README.md',
  ...readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown without its fenced code blocks (diagrams and shell examples hold no links). */
const prose = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as dashes. */
const slugOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(file: string): Set<string> {
  const headings = prose(readFileSync(file, 'utf8')).match(/^#{1,6} .+$/gm) ?? [];
  return new Set(headings.map((h) => slugOf(h.replace(/^#+ /, ''))));
}

function brokenLinks(page: string): string[] {
  const file = path.join(repoRoot, page);
  const links = [...prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return links.filter((link) => {
    if (/^[a-z]+:/i.test(link)) return false;
    const [target = '', anchor] = link.split('#');
    const linked = target ? path.resolve(path.dirname(file), target) : file;
    if (!existsSync(linked)) return true;
    return anchor !== undefined && linked.endsWith('.md') && !anchorsOf(linked).has(anchor);
  });
}

for (const page of pages) {
  test(`docs - every relative link and anchor in ${page} leads to a file and heading that exist`, (t) => {
    t.deepEqual(brokenLinks(page), []);
  });
}

test('docs - the README links the scaling guide', (t) => {
  t.true(pages.includes('docs/scaling.md'));
  t.regex(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'), /\]\(docs\/scaling\.md\)/);
});

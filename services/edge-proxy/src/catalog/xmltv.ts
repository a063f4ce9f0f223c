import { AcefleetError } from '@acefleet/contracts';

/** The elements of one XMLTV guide that a merged guide is made of, as the guide wrote them. */
export interface XmltvParts {
  /** `<channel id="…">…</channel>` elements, with their ids. */
  channels: { id: string; xml: string }[];
  /** `<programme …>…</programme>` elements. */
  programmes: string[];
}

/** What may precede the root element: the XML declaration, a DOCTYPE, comments, processing instructions. */
const PROLOG = /^(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>)*/i;
const CHANNEL = /<channel\b[^>]*?(?:\/>|>[\s\S]*?<\/channel\s*>)/g;
const PROGRAMME = /<programme\b[^>]*?(?:\/>|>[\s\S]*?<\/programme\s*>)/g;
const ID = /\bid\s*=\s*("([^"]*)"|'([^']*)')/;

/**
 * Read an XMLTV guide: its root element must be `<tv>` and it must be closed; anything else (an HTML error
 * page, JSON, another XML document, a cut-off download) is `invalid_guide`, naming what was found. Its channel
 * and programme elements are taken as written, so merging keeps every detail the guide has.
 */
export function readXmltv(text: string, source: string): XmltvParts {
  const start = text.replace(/^\uFEFF/, '').match(PROLOG)?.[0].length ?? 0;
  const body = text.replace(/^\uFEFF/, '').slice(start);
  const root = /^<([A-Za-z_][\w.-]*)/.exec(body)?.[1];
  if (root !== 'tv') {
    const found = root
      ? `its root element is <${root}>`
      : `it starts with ${JSON.stringify(body.slice(0, 20))}`;
    throw new AcefleetError('invalid_guide', `${source} is not an XMLTV guide: ${found}, not <tv>`);
  }
  if (!/<\/tv\s*>\s*$/.test(body) && !/^<tv\b[^>]*\/>\s*$/.test(body)) {
    throw new AcefleetError(
      'invalid_guide',
      `${source} is not a whole XMLTV guide: it does not end with </tv>`,
    );
  }
  const channels = [...body.matchAll(CHANNEL)].map((m) => {
    const id = ID.exec(m[0].slice(0, m[0].indexOf('>') + 1));
    return { id: id?.[2] ?? id?.[3] ?? '', xml: m[0] };
  });
  return { channels, programmes: [...body.matchAll(PROGRAMME)].map((m) => m[0]) };
}

/**
 * One XMLTV document from several guides: every channel once (the first guide that defines an id wins), then
 * every programme, as the XMLTV DTD orders them. Guides that could not be read are named in a comment.
 */
export function mergeXmltv(guides: XmltvParts[], skipped: string[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE tv SYSTEM "xmltv.dtd">'];
  for (const why of skipped) out.push(`<!-- left out: ${why.replace(/--/g, '- -')} -->`);
  out.push('<tv generator-info-name="acefleet">');
  const seen = new Set<string>();
  for (const guide of guides) {
    for (const channel of guide.channels) {
      if (seen.has(channel.id)) continue;
      seen.add(channel.id);
      out.push(channel.xml);
    }
  }
  for (const guide of guides) out.push(...guide.programmes);
  out.push('</tv>', '');
  return out.join('\n');
}

// History tabs: sessions with filters, and the events feed.
import { ago, bytes, chip, h, short, time } from './dom.js';

export const contentOf = (s) => `${s.contentKind === 'infohash' ? 'ih' : 'id'}:${s.contentValue}`;

/** What a row plays: its channel's name when one is known, else the short content id. */
export const channelOf = (s) => s.channel ?? short(contentOf(s), 16);

export function describe(e) {
  const d = e.data ?? {};
  switch (e.kind) {
    case 'stream.started':
      return `stream ${short(d.streamId)} started on ${d.engineId} (${d.content?.kind} ${short(d.content?.value)})`;
    case 'stream.ended':
      return `stream ${short(d.streamId)} ended: ${d.reason}, ${bytes(d.bytesOut ?? 0)} out, peak ${d.peakClients} viewers`;
    case 'engine.health':
      return `engine ${d.engineId} ${d.previous} → ${d.status} (${d.consecutiveFailures} failures) ${d.detail ?? ''}`;
    case 'stream.moved':
      return `stream ${short(d.streamId)} moved ${d.previousEngineId} → ${d.engineId} (${d.reason}, ${d.gapMs} ms gap)`;
    case 'stream.stale':
      return `stream ${short(d.streamId)} stale: the engine forgot the session (proxy ${d.proxyId})`;
    case 'stream.starved':
      return d.starved
        ? `stream ${short(d.streamId)} starved: no peers for ${Math.round(d.zeroPeersMs / 1000)} s`
        : `stream ${short(d.streamId)} has peers again`;
    case 'services.presence':
      return d.missing?.length
        ? `services missing: ${d.missing.join(', ')}`
        : `all services answer (${d.present?.length ?? 0} instances)`;
    default:
      return JSON.stringify(d).slice(0, 160);
  }
}

export function feedItem(e, fresh) {
  return h(
    'div',
    { class: `item${fresh ? ' new' : ''}`, 'data-seq': e.seq },
    h('span', { class: 'muted mono' }, time(e.at)),
    h('span', { class: `kind ${e.kind.replace('.', '-')}` }, e.kind),
    h('span', {}, describe(e)),
  );
}

export function sessionsView(st, onFilter) {
  const f = st.sessionFilter;
  const input = (name, placeholder, attrs = {}) =>
    h('input', {
      name,
      placeholder,
      value: f[name] ?? '',
      onchange: (ev) => onFilter({ ...f, [name]: ev.target.value }),
      ...attrs,
    });
  const rows = st.sessions.map((s) =>
    h(
      'tr',
      { 'data-session-id': s.streamId },
      h('td', { class: 'muted' }, new Date(s.startedAt).toLocaleString()),
      h('td', { class: s.channel ? '' : 'mono', title: contentOf(s) }, channelOf(s)),
      h('td', { class: 'mono' }, short(s.engineId, 14)),
      h('td', {}, s.endedAt ? ago(s.startedAt, Date.parse(s.endedAt)) : chip('playing', 'dl')),
      h('td', {}, s.reason ?? ''),
      h('td', { class: 'num' }, s.peakClients),
      h('td', { class: 'num' }, bytes(s.bytesOut)),
    ),
  );
  return h(
    'div',
    {},
    h('h2', {}, 'Who watches'),
    playersTable(st.players),
    h('h2', {}, 'Streams'),
    h(
      'div',
      { class: 'filters' },
      input('content', 'content id (40 hex)', { size: 42 }),
      h(
        'select',
        { name: 'state', onchange: (ev) => onFilter({ ...f, state: ev.target.value }) },
        ['', 'active', 'ended'].map((v) =>
          h('option', { value: v, selected: f.state === v }, v || 'any state'),
        ),
      ),
      input('since', 'since (ISO time)'),
      input('until', 'until (ISO time)'),
    ),
    rows.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Started', 'Content', 'Engine', 'Duration', 'End reason', 'Peak viewers', 'Bytes out'].map(
                (t) => h('th', {}, t),
              ),
            ),
          ),
          h('tbody', {}, rows),
        )
      : h('div', { class: 'empty' }, 'No session matches.'),
  );
}

/** The players watching now: who (token name, else address), which channel, with what, since when, bytes. */
function playersTable(players) {
  if (players.length === 0) return h('div', { class: 'empty' }, 'Nobody is watching.');
  return h(
    'table',
    { id: 'players' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Who', 'Channel', 'Player', 'Kind', 'Since', 'Bytes out'].map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      players.map((p) =>
        h(
          'tr',
          { 'data-player-id': p.playerId },
          h('td', {}, p.token ? chip(p.token, 'dl') : h('span', { class: 'mono' }, p.address)),
          h('td', { title: contentOf(p) }, channelOf(p)),
          h('td', { class: 'muted' }, short(p.userAgent, 40)),
          h('td', {}, p.kind),
          h('td', { class: 'num muted' }, ago(p.startedAt)),
          h('td', { class: 'num' }, bytes(p.bytesOut)),
        ),
      ),
    ),
  );
}

export function eventsView(st) {
  if (st.events.length === 0) return h('div', { class: 'empty' }, 'No event yet.');
  return h(
    'div',
    { class: 'feed', id: 'feed' },
    st.events.map((e) => feedItem(e, st.fresh.has(e.seq))),
  );
}

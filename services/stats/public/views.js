// Live tabs: overview, engines and streams; each builds its view from the current state.
import { engineActions, streamActions } from './actions.js';
import { lineChart } from './charts.js';
import { ago, bytes, chip, h, rate, short, time } from './dom.js';
import { channelOf, contentOf, feedItem } from './history-views.js';

/** How many of an engine's claims are hot standbys (HOT_STANDBY_VIEWERS), as a note after its claims. */
function standbyNote(e) {
  const n = e.claims.filter((c) => c.standby).length;
  return n > 0 ? ` (${n} standby)` : '';
}

function card(label, value, unit, extra) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value, unit ? h('small', {}, unit) : null),
    extra,
  );
}

/** A one-line description of an event, by kind. */
function streamRow(s) {
  return h(
    'tr',
    { 'data-stream-id': s.streamId },
    h('td', { class: s.channel ? '' : 'mono', title: contentOf(s) }, channelOf(s)),
    h('td', { class: 'mono' }, short(s.engineId, 14)),
    h('td', { class: 'num' }, s.viewers ?? 1),
    h('td', { class: 'num' }, s.sample ? rate(s.sample.speedDownKBps) : '–'),
    h('td', { class: 'num' }, s.sample ? s.sample.peers : '–'),
    h(
      'td',
      {},
      s.stale
        ? chip('stale')
        : s.starved
          ? chip('starved')
          : chip(s.sample?.status ?? 'new', s.sample?.status ?? 'starting'),
    ),
    h('td', { class: 'num muted' }, ago(s.startedAt)),
  );
}

function streamsTable(streams) {
  if (streams.length === 0) return h('div', { class: 'empty' }, 'No stream is playing.');
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Channel'),
        h('th', {}, 'Engine'),
        h('th', { class: 'num' }, 'Viewers'),
        h('th', { class: 'num' }, 'Bitrate'),
        h('th', { class: 'num' }, 'Peers'),
        h('th', {}, 'Status'),
        h('th', { class: 'num' }, 'Age'),
      ),
    ),
    h('tbody', { id: 'stream-rows' }, streams.map(streamRow)),
  );
}

function alertsList(alerts) {
  if (!alerts?.length)
    return h(
      'div',
      { class: 'alerts' },
      h('div', { class: 'alert none' }, 'No alerts: every engine healthy, every service answering.'),
    );
  return h(
    'div',
    { class: 'alerts' },
    alerts.map((a) => h('div', { class: `alert ${a.level}` }, a.message)),
  );
}

function enginesMini(engines) {
  if (engines.length === 0) return h('div', { class: 'empty' }, 'No engine is registered.');
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Engine', 'State', 'Health', 'Load', 'Age'].map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      engines.map((e) =>
        h(
          'tr',
          { 'data-engine-id': e.id },
          h('td', { class: 'mono' }, e.id),
          h('td', {}, chip(e.state)),
          h(
            'td',
            { title: e.health ? `${e.health.detail} (since ${time(e.health.at)})` : '' },
            e.health ? chip(e.health.status) : chip('unknown', 'muted'),
          ),
          h(
            'td',
            {},
            h('span', { class: 'bar' }, h('i', { style: `width:${Math.min(100, e.load * 100)}%` })),
            ` ${e.claims.length}/${e.capacity}${standbyNote(e)}`,
          ),
          h('td', { class: 'muted' }, ago(e.createdAt)),
        ),
      ),
    ),
  );
}

export function overviewView(st) {
  const o = st.overview;
  if (!o) return h('div', { class: 'empty' }, 'Loading…');
  const states = Object.entries(o.engines.byState).filter(([, n]) => n > 0);
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'cards' },
      card(
        'Engines',
        o.engines.total,
        null,
        h(
          'div',
          { class: 'chips' },
          states.length ? states.map(([s, n]) => chip(`${n} ${s}`, s)) : chip('none', 'muted'),
          o.engines.unhealthy ? chip(`${o.engines.unhealthy} failing probes`, 'unhealthy') : null,
        ),
      ),
      card(
        'Streams',
        h('span', { id: 'stream-count' }, o.streams),
        'playing',
        h('div', { class: 'chips' }, chip(`${o.totals.sessionsStarted} sessions total`, 'muted')),
      ),
      card(
        'Viewers',
        o.viewers,
        'connected',
        h('div', { class: 'chips' }, chip(`${bytes(o.totals.bytesOut)} served`, 'muted')),
      ),
      h(
        'div',
        { class: 'card' },
        h('div', { class: 'label' }, 'P2P throughput'),
        h('div', { class: 'value' }, rate(o.throughputKBps)),
        lineChart(st.fleetSeries, { color: '#3fb950' }),
      ),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'div',
        {},
        h('h2', {}, 'Active streams'),
        streamsTable(st.streams),
        h('h2', {}, 'Engines'),
        enginesMini(st.engines),
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Alerts'),
        alertsList(o.alerts),
        h('h2', {}, 'Latest events'),
        h(
          'div',
          { class: 'feed compact' },
          st.events.slice(0, 8).map((e) => feedItem(e, st.fresh.has(e.seq))),
        ),
      ),
    ),
  );
}

/** `onAction`: called after an operator action (drain, remove) went through. */
export function enginesView(st, onAction) {
  if (st.engines.length === 0) return h('div', { class: 'empty' }, 'No engine is registered.');
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Engine', 'State', 'Health', 'Load', 'Claims', 'Age', 'Address', 'Last probe', 'History', ''].map(
          (t) => h('th', {}, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      st.engines.map((e) =>
        h(
          'tr',
          { 'data-engine-id': e.id },
          h('td', { class: 'mono' }, e.id),
          h('td', {}, chip(e.state)),
          h('td', {}, e.health ? chip(e.health.status) : chip('unknown', 'muted')),
          h(
            'td',
            {},
            h('span', { class: 'bar' }, h('i', { style: `width:${Math.min(100, e.load * 100)}%` })),
            ` ${Math.round(e.load * 100)}%`,
          ),
          h('td', { class: 'num' }, `${e.claims.length}/${e.capacity}${standbyNote(e)}`),
          h('td', { class: 'muted' }, ago(e.createdAt)),
          h('td', { class: 'mono muted' }, e.baseUrl),
          h(
            'td',
            { class: 'muted', 'data-last-probe': e.lastProbe?.at ?? '' },
            e.lastProbe ? `${time(e.lastProbe.at)} ${e.lastProbe.ok ? 'ok' : 'failed'}` : '–',
          ),
          h(
            'td',
            {},
            h('a', { href: `/api/events?engine=${encodeURIComponent(e.id)}`, target: '_blank' }, 'events'),
          ),
          h('td', { class: 'actions' }, engineActions(e, onAction)),
        ),
      ),
    ),
  );
}

/** `onAction`: called after an operator action (stop) went through. */
export function streamsView(st, onAction) {
  if (st.streams.length === 0) return h('div', { class: 'empty' }, 'No stream is playing.');
  return h(
    'div',
    { class: 'streams' },
    st.streams.map((s) => {
      const series = st.series.get(s.streamId) ?? [];
      const last = series[series.length - 1];
      return h(
        'div',
        { class: 'card stream', 'data-stream-id': s.streamId },
        h(
          'div',
          { class: 'head' },
          h('b', { class: 'mono' }, short(contentOf(s), 24)),
          s.stale
            ? chip('stale')
            : s.starved
              ? chip('starved')
              : chip(last?.status ?? 'new', last?.status ?? 'starting'),
          streamActions(s, onAction),
        ),
        h(
          'div',
          { class: 'muted mono' },
          `${s.engineId}${s.moves ? ` (moved ${s.moves}×)` : ''} · proxy ${short(s.proxyId, 8)} · ${ago(s.startedAt)}`,
        ),
        h(
          'div',
          { class: 'facts' },
          h('div', {}, h('b', {}, s.viewers ?? 1), h('span', {}, 'viewers')),
          h('div', {}, h('b', {}, last ? rate(last.speed) : '–'), h('span', {}, 'bitrate')),
          h('div', {}, h('b', {}, last ? last.peers : '–'), h('span', {}, 'peers')),
          h('div', {}, h('b', {}, last ? bytes(last.downloaded) : '–'), h('span', {}, 'downloaded')),
        ),
        h(
          'div',
          { class: 'charts' },
          h(
            'div',
            { class: 'chart' },
            h('div', { class: 'title' }, h('span', {}, 'peers'), h('span', {}, last?.peers ?? '')),
            lineChart(
              series.map((p) => ({ t: p.t, v: p.peers })),
              { color: '#bc8cff' },
            ),
          ),
          h(
            'div',
            { class: 'chart' },
            h(
              'div',
              { class: 'title' },
              h('span', {}, 'download speed'),
              h('span', {}, last ? rate(last.speed) : ''),
            ),
            lineChart(
              series.map((p) => ({ t: p.t, v: p.speed })),
              { color: '#58a6ff' },
            ),
          ),
        ),
      );
    }),
  );
}

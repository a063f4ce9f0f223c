// The dashboard: loads the JSON API once, then follows the live feed (Server-Sent Events) and re-renders.
import { setupKeyForm } from './actions.js';
import { eventsView, sessionsView } from './history-views.js';
import { enginesView, overviewView, streamsView } from './views.js';

const MAX_EVENTS = 200;
const MAX_POINTS = 120;

const state = {
  tab: 'overview',
  overview: null,
  engines: [],
  streams: [],
  sessions: [],
  players: [],
  sessionFilter: { content: '', state: '', since: '', until: '' },
  events: [],
  fresh: new Set(),
  series: new Map(),
  fleetSeries: [],
};

async function getJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

const loaders = {
  overview: async () => {
    state.overview = await getJson('/api/overview');
    state.fleetSeries.push({ t: Date.now(), v: state.overview.throughputKBps });
    if (state.fleetSeries.length > MAX_POINTS) state.fleetSeries.shift();
  },
  engines: async () => {
    state.engines = (await getJson('/api/engines')).engines;
  },
  streams: async () => {
    state.streams = (await getJson('/api/streams')).streams;
    const unseen = state.streams.filter((s) => !state.series.has(s.streamId));
    await Promise.all(unseen.map(loadSamples));
    for (const id of state.series.keys())
      if (!state.streams.some((s) => s.streamId === id)) state.series.delete(id);
  },
  sessions: async () => {
    const q = new URLSearchParams({ limit: '100' });
    for (const [k, v] of Object.entries(state.sessionFilter)) if (v) q.set(k, v);
    state.sessions = (await getJson(`/api/sessions?${q}`)).sessions;
  },
  players: async () => {
    state.players = (await getJson('/api/players?state=active&limit=200')).players;
  },
  events: async () => {
    state.events = (await getJson('/api/events?limit=100')).events;
  },
};

async function loadSamples(stream) {
  state.series.set(stream.streamId, []);
  const { samples } = await getJson(`/api/streams/${encodeURIComponent(stream.streamId)}`);
  state.series.set(stream.streamId, samples.slice(-MAX_POINTS).map(toPoint));
}

function toPoint(s) {
  return {
    t: Date.parse(s.at),
    peers: s.peers,
    speed: s.speedDownKBps,
    downloaded: s.downloadedBytes,
    status: s.status,
  };
}

// Refreshes requested by live events are coalesced: one fetch per part per 100 ms at most.
const pending = new Set();
let refreshTimer;
function refresh(...parts) {
  for (const p of parts) pending.add(p);
  refreshTimer ??= setTimeout(async () => {
    refreshTimer = undefined;
    const parts = [...pending];
    pending.clear();
    await Promise.all(parts.map((p) => loaders[p]().catch((err) => console.warn(err))));
    render();
  }, 100);
}

function onEvent(e) {
  if (e.kind === 'stream.stats') {
    const series = state.series.get(e.data.streamId);
    if (series) {
      series.push(toPoint(e.data));
      if (series.length > MAX_POINTS) series.shift();
    }
    refresh('overview', 'streams');
    return;
  }
  if (e.kind === 'stream.viewers') return refresh('overview', 'streams');
  if (e.kind.startsWith('player.')) return refresh('players');
  state.events.unshift(e);
  state.events.length = Math.min(state.events.length, MAX_EVENTS);
  state.fresh.add(e.seq);
  setTimeout(() => state.fresh.delete(e.seq), 1500);
  if (e.kind.startsWith('stream.')) refresh('overview', 'streams', 'sessions', 'players');
  else refresh('overview', 'engines');
}

/** A probe that changed nothing but its time: the engine's row shows it, without a reload. */
function onProbe(p) {
  const engine = state.engines.find((e) => e.id === p.engineId);
  if (!engine) return;
  engine.lastProbe = p;
  if (state.tab === 'engines') render();
}

function connectLive() {
  const badge = document.getElementById('live');
  const source = new EventSource('/api/live');
  source.addEventListener('open', () => {
    badge.dataset.live = 'on';
    badge.querySelector('span').textContent = 'live';
    // Whatever happened while disconnected is in the API: reload it all once.
    refresh(...Object.keys(loaders));
  });
  source.addEventListener('error', () => {
    badge.dataset.live = 'off';
    badge.querySelector('span').textContent = 'reconnecting';
  });
  source.addEventListener('event', (m) => onEvent(JSON.parse(m.data)));
  source.addEventListener('engine', () => refresh('overview', 'engines'));
  source.addEventListener('probe', (m) => onProbe(JSON.parse(m.data)));
}

const afterAction = () => refresh('overview', 'engines', 'streams');

const views = {
  overview: overviewView,
  engines: (st) => enginesView(st, afterAction),
  streams: (st) => streamsView(st, afterAction),
  sessions: (st) =>
    sessionsView(st, (filter) => {
      state.sessionFilter = filter;
      refresh('sessions');
    }),
  events: eventsView,
};

function render() {
  const view = document.getElementById('view');
  const scroll = window.scrollY;
  view.replaceChildren(views[state.tab](state));
  window.scrollTo(0, scroll);
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('active', a.getAttribute('href') === `#${state.tab}`);
  document.body.dataset.tab = state.tab;
}

function route() {
  const tab = location.hash.slice(1);
  state.tab = tab in views ? tab : 'overview';
  render();
}

window.addEventListener('hashchange', route);
setupKeyForm(render);
route();
connectLive();
// Ages and chart windows move with the clock even when nothing happens.
setInterval(() => {
  if (!document.activeElement?.closest('.filters')) render();
}, 5000);

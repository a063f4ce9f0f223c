// Hand-drawn SVG line charts: no library, a few dozen points per series.
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * A filled line chart of `points` ([{t, v}], t in ms) over the last `windowMs`, scaled to its maximum.
 * Returns an <svg> sized by CSS (viewBox 300x70).
 */
export function lineChart(points, { color = '#58a6ff', windowMs = 5 * 60_000, now = Date.now() } = {}) {
  const W = 300;
  const H = 70;
  const pad = 4;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  for (let i = 1; i < 4; i++)
    root.append(
      svg('line', { x1: 0, x2: W, y1: (H / 4) * i, y2: (H / 4) * i, stroke: '#30363d', 'stroke-width': 0.5 }),
    );
  const recent = points.filter((p) => p.t >= now - windowMs);
  if (recent.length === 0) return root;
  // A young series fills the chart instead of hugging its right edge: the span grows up to windowMs.
  const span = Math.min(windowMs, Math.max(30_000, now - recent[0].t));
  const from = now - span;
  const shown = recent;
  const max = Math.max(1, ...shown.map((p) => p.v)) * 1.15;
  const x = (t) => ((t - from) / span) * W;
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  const line = shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
  if (shown.length === 1)
    line.unshift(`${Math.max(0, x(shown[0].t) - 6).toFixed(1)},${y(shown[0].v).toFixed(1)}`);
  const first = line[0].split(',')[0];
  const last = line[line.length - 1].split(',')[0];
  const gradId = `g${Math.random().toString(36).slice(2, 8)}`;
  const defs = svg('defs', {});
  const grad = svg('linearGradient', { id: gradId, x1: 0, x2: 0, y1: 0, y2: 1 });
  grad.append(svg('stop', { offset: '0%', 'stop-color': color, 'stop-opacity': 0.35 }));
  grad.append(svg('stop', { offset: '100%', 'stop-color': color, 'stop-opacity': 0 }));
  defs.append(grad);
  root.append(defs);
  root.append(
    svg('polygon', { points: `${first},${H} ${line.join(' ')} ${last},${H}`, fill: `url(#${gradId})` }),
  );
  root.append(
    svg('polyline', {
      points: line.join(' '),
      fill: 'none',
      stroke: color,
      'stroke-width': 1.8,
      'vector-effect': 'non-scaling-stroke',
      'stroke-linejoin': 'round',
    }),
  );
  const end = line[line.length - 1].split(',');
  root.append(svg('circle', { cx: end[0], cy: end[1], r: 2.5, fill: color }));
  return root;
}

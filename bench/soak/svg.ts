/** A small line chart as SVG text (no dependency, no browser): series over time, axes, a legend. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 640;
const H = 240;
const PAD = { left: 56, right: 150, top: 24, bottom: 32 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

/** `bound`: a dashed horizontal line (a configured limit) drawn across the chart. */
export function lineChart(
  title: string,
  unit: string,
  series: Series[],
  bound?: { value: number; label: string },
): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const yMax = Math.max(1e-9, ...all.map(([, y]) => y), bound?.value ?? 0) * 1.1;
  const x = (v: number): number => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left}" y="15" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>`,
    ...ticks.map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>` +
        `<text x="${PAD.left - 4}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    ),
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    ...[0, 0.5, 1].map(
      (f) =>
        `<text x="${x(f * xMax)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${((f * xMax) / 60).toFixed(0)} min</text>`,
    ),
  ];
  if (bound) {
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(bound.value)}" y2="${y(bound.value)}" stroke="#000" stroke-dasharray="5,4"/>`,
      `<text x="${W - PAD.right + 4}" y="${y(bound.value) + 4}">${esc(bound.label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const d = s.points
      .map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    const ly = PAD.top + 14 + i * 16 + (bound ? 16 : 0);
    parts.push(
      `<rect x="${W - PAD.right + 8}" y="${ly - 8}" width="10" height="3" fill="${colour}"/>`,
      `<text x="${W - PAD.right + 22}" y="${ly - 4}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

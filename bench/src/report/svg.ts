/** Small hand-written SVG charts: no chart library for three plots. */

export type Series = { name: string; color: string; points: Array<[number, number]>; dashed?: boolean };
export type LineChart = {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  yMin?: number;
};

const W = 640;
const H = 400;
const M = { left: 64, right: 170, top: 40, bottom: 52 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const num = (x: number) =>
  x >= 100
    ? x.toFixed(0)
    : x >= 10
      ? x.toFixed(1).replace(/\.0$/, '')
      : x.toFixed(2).replace(/0$/, '').replace(/\.0$/, '');

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0 || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

function frame(
  title: string,
  body: string[],
  legend: Array<{ name: string; color: string; dashed?: boolean }>,
): string {
  const items = legend
    .map(
      (s, i) =>
        `<line x1="${W - M.right + 16}" x2="${W - M.right + 40}" y1="${M.top + 10 + i * 20}" y2="${M.top + 10 + i * 20}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
        `<text x="${W - M.right + 46}" y="${M.top + 14 + i * 20}" font-size="12">${esc(s.name)}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...body,
    items,
    '</svg>',
  ].join('\n');
}

export function lineChart(c: LineChart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => Number.isFinite(y) && y > 0);
  const x0 = 0;
  const x1 = Math.max(...xs) * 1.05;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  let sy: (y: number) => number;
  let yTicks: number[];
  if (c.logY) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
    sy = (y) => M.top + ph - ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
    yTicks = [];
    for (let v = lo; v <= hi * 1.0001; v *= 10) yTicks.push(v);
  } else {
    const hi = Math.max(...ys) * 1.1;
    const lo = c.yMin ?? 0;
    sy = (y) => M.top + ph - ((y - lo) / (hi - lo)) * ph;
    yTicks = niceTicks(lo, hi);
  }
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`);
    body.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${num(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    body.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`);
    body.push(`<text x="${sx(t)}" y="${M.top + ph + 18}" font-size="11" text-anchor="middle">${num(t)}</text>`);
  }
  body.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  body.push(`<text x="${M.left + pw / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${esc(c.xLabel)}</text>`);
  body.push(
    `<text x="16" y="${M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(c.yLabel)}</text>`,
  );
  for (const s of c.series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]) && (!c.logY || p[1] > 0));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    body.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (!s.dashed)
      for (const p of pts)
        body.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  return frame(c.title, body, c.series);
}

export type Bars = {
  title: string;
  yLabel: string;
  groups: Array<{ label: string; values: number[] }>;
  names: string[];
  colors: string[];
  logY?: boolean;
};

export function barChart(c: Bars): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const all = c.groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v) && v > 0);
  const lo = c.logY ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 0;
  const hi = c.logY ? 10 ** Math.ceil(Math.log10(Math.max(...all))) : Math.max(...all) * 1.1;
  const sy = c.logY
    ? (y: number) =>
        M.top + ph - ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph
    : (y: number) => M.top + ph - (y / hi) * ph;
  const ticks: number[] = [];
  if (c.logY) for (let v = lo; v <= hi * 1.0001; v *= 10) ticks.push(v);
  else ticks.push(...niceTicks(0, hi));
  const body: string[] = [];
  for (const t of ticks) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`);
    body.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${num(t)}</text>`);
  }
  const gw = pw / c.groups.length;
  const bw = (gw * 0.7) / c.names.length;
  c.groups.forEach((g, gi) => {
    const gx = M.left + gi * gw + gw * 0.15;
    g.values.forEach((v, vi) => {
      if (!Number.isFinite(v)) return;
      const y = sy(v);
      body.push(
        `<rect x="${(gx + vi * bw).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(M.top + ph - y).toFixed(1)}" fill="${c.colors[vi]}"/>`,
      );
      body.push(
        `<text x="${(gx + vi * bw + bw / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="10" text-anchor="middle">${num(v)}</text>`,
      );
    });
    body.push(
      `<text x="${(gx + (bw * c.names.length) / 2).toFixed(1)}" y="${M.top + ph + 18}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  body.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  body.push(
    `<text x="16" y="${M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${esc(c.yLabel)}</text>`,
  );
  return frame(
    c.title,
    body,
    c.names.map((name, i) => ({ name, color: c.colors[i]! })),
  );
}

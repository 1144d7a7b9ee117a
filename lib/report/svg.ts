// Small, dependency-free SVG charts for training reports: learning curves (one panel per quantity,
// e.g. loss and accuracy, with a line per series such as training and validation) and a confusion
// matrix heat map. The output is a standalone SVG document a browser or image viewer opens directly.

export interface Series {
  label: string;
  /** One value per epoch (epoch 1 first). NaN or missing values are skipped. */
  values: readonly number[];
}

export interface Panel {
  title: string;
  series: readonly Series[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const PANEL_W = 420;
const PANEL_H = 280;
const MARGIN = { left: 56, right: 16, top: 32, bottom: 44 };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

function panelSvg(panel: Panel, x0: number): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const finite = panel.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
  const epochs = Math.max(1, ...panel.series.map((s) => s.values.length));
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const sx = (epoch: number) => x0 + MARGIN.left + (epochs === 1 ? w / 2 : ((epoch - 1) / (epochs - 1)) * w);
  const sy = (v: number) => MARGIN.top + h - ((v - lo) / (hi - lo)) * h;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + MARGIN.left + w / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
  parts.push(`<rect x="${x0 + MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`);
  for (const t of ticks(lo, hi)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${x0 + MARGIN.left}" x2="${x0 + MARGIN.left + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 + MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${formatTick(t)}</text>`);
  }
  for (const t of ticks(1, epochs).filter((e) => Number.isInteger(e))) {
    const x = sx(t).toFixed(1);
    parts.push(`<text x="${x}" y="${MARGIN.top + h + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  parts.push(`<text x="${x0 + MARGIN.left + w / 2}" y="${PANEL_H - 8}" text-anchor="middle" font-size="12">epoch</text>`);
  // The legend goes in the top-right corner unless the curves end high (e.g. rising accuracy).
  const lastValues = panel.series.map((s) => s.values.filter((v) => Number.isFinite(v)).at(-1)).filter((v): v is number => v !== undefined);
  const endsHigh = lastValues.length > 0 && lastValues.every((v) => (v - lo) / (hi - lo) > 0.5);
  const legendTop = endsHigh ? MARGIN.top + h - 10 - 16 * panel.series.length : MARGIN.top;
  panel.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.values
      .map((v, e) => (Number.isFinite(v) ? `${sx(e + 1).toFixed(1)},${sy(v).toFixed(1)}` : null))
      .filter((p): p is string => p !== null);
    if (points.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of points) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
    }
    const ly = legendTop + 14 + 16 * i;
    parts.push(`<line x1="${x0 + MARGIN.left + w - 110}" x2="${x0 + MARGIN.left + w - 92}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${x0 + MARGIN.left + w - 88}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** Panels side by side, e.g. [{title: 'loss', series: [train, validation]}, {title: 'accuracy', ...}]. */
export function learningCurvesSvg(panels: readonly Panel[]): string {
  if (panels.length === 0) throw new RangeError('learningCurvesSvg: no panels to draw');
  const width = PANEL_W * panels.length;
  const body = panels.map((p, i) => panelSvg(p, i * PANEL_W)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_H}" viewBox="0 0 ${width} ${PANEL_H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}

/** Heat map of counts[t * k + p] (rows true class, columns predicted), each cell labelled with its count. */
export function confusionMatrixSvg(counts: ArrayLike<number>, classNames: readonly string[]): string {
  const k = classNames.length;
  if (k === 0 || counts.length !== k * k) {
    throw new RangeError(`confusionMatrixSvg: ${counts.length} counts do not form a ${k}x${k} matrix`);
  }
  const cell = 36;
  const left = 90;
  const top = 70;
  const width = Math.max(left + k * cell + 20, 240);
  const height = top + k * cell + 20;
  let max = 0;
  for (let i = 0; i < counts.length; i++) max = Math.max(max, counts[i]);
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">confusion matrix</text>`);
  parts.push(`<text x="${left + (k * cell) / 2}" y="44" text-anchor="middle" font-size="12">predicted</text>`);
  parts.push(`<text x="16" y="${top + (k * cell) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${top + (k * cell) / 2})">true</text>`);
  for (let t = 0; t < k; t++) {
    parts.push(`<text x="${left - 6}" y="${top + t * cell + cell / 2}" text-anchor="end" dominant-baseline="middle" font-size="11">${escapeXml(classNames[t])}</text>`);
    parts.push(`<text x="${left + t * cell + cell / 2}" y="${top - 6}" text-anchor="middle" font-size="11">${escapeXml(classNames[t])}</text>`);
    for (let p = 0; p < k; p++) {
      const v = counts[t * k + p];
      const shade = max === 0 ? 0 : v / max;
      const fill = `rgb(${Math.round(255 - 225 * shade)},${Math.round(255 - 155 * shade)},${Math.round(255 - 75 * shade)})`;
      parts.push(`<rect x="${left + p * cell}" y="${top + t * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>`);
      parts.push(`<text x="${left + p * cell + cell / 2}" y="${top + t * cell + cell / 2}" text-anchor="middle" dominant-baseline="middle" font-size="10" fill="${shade > 0.6 ? 'white' : 'black'}">${v}</text>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

/** The same matrix as aligned text for a terminal. */
export function formatConfusionMatrix(counts: ArrayLike<number>, classNames: readonly string[]): string {
  const k = classNames.length;
  if (k === 0 || counts.length !== k * k) {
    throw new RangeError(`formatConfusionMatrix: ${counts.length} counts do not form a ${k}x${k} matrix`);
  }
  let widest = Math.max(...classNames.map((n) => n.length), 4);
  for (let i = 0; i < counts.length; i++) widest = Math.max(widest, String(counts[i]).length);
  const pad = (s: string) => s.padStart(widest + 1);
  const lines = [`${pad('true\\pred')}${classNames.map(pad).join('')}`];
  for (let t = 0; t < k; t++) {
    const row: string[] = [];
    for (let p = 0; p < k; p++) row.push(pad(String(counts[t * k + p])));
    lines.push(`${pad(classNames[t])}${row.join('')}`);
  }
  return lines.join('\n');
}

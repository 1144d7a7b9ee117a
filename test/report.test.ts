import { describe, expect, test } from 'vitest';
import { confusionMatrixSvg, formatConfusionMatrix, learningCurvesSvg } from '../lib/report/svg.js';

describe('learning curves SVG', () => {
  const svg = learningCurvesSvg([
    { title: 'loss', series: [{ label: 'train', values: [2, 1, 0.5] }, { label: 'validation', values: [2.2, 1.4, NaN] }] },
    { title: 'accuracy <%>', series: [{ label: 'train', values: [0.5, 0.8, 0.9] }] },
  ]);

  test('one panel per quantity, a polyline per series through every finite value', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="840"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    // validation has a NaN at epoch 3: two points, not three
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(lines).toEqual([3, 2, 3]);
    expect(svg.match(/<circle /g)).toHaveLength(8);
  });

  test('text is escaped and points stay inside their panel', () => {
    expect(svg).toContain('accuracy &lt;%&gt;');
    for (const m of svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)) {
      const [x, y] = [Number(m[1]), Number(m[2])];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(840);
      expect(y).toBeGreaterThanOrEqual(32);
      expect(y).toBeLessThanOrEqual(280 - 44);
    }
  });

  test('lower loss is drawn higher on the page (y grows downward)', () => {
    const pts = /<polyline [^>]*points="([^"]*)"/.exec(svg)![1].split(' ').map((p) => Number(p.split(',')[1]));
    expect(pts[2]).toBeGreaterThan(pts[0]);
  });

  test('no panels is an error', () => {
    expect(() => learningCurvesSvg([])).toThrow(/^learningCurvesSvg: no panels/);
  });
});

describe('confusion matrix rendering', () => {
  const counts = [5, 1, 0, 2, 7, 1, 0, 0, 9];
  test('SVG has a cell and a count per entry', () => {
    const svg = confusionMatrixSvg(counts, ['a', 'b', 'c']);
    expect(svg.match(/<rect x=/g)).toHaveLength(9);
    for (const v of counts) expect(svg).toContain(`>${v}</text>`);
  });
  test('text table rows are true classes', () => {
    const text = formatConfusionMatrix(counts, ['cat', 'dog', 'eel']);
    const rows = text.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[1].trim().split(/\s+/)).toEqual(['cat', '5', '1', '0']);
    expect(rows[3].trim().split(/\s+/)).toEqual(['eel', '0', '0', '9']);
  });
  test('a count list that is not k x k is an error', () => {
    expect(() => confusionMatrixSvg([1, 2, 3], ['a', 'b'])).toThrow(/3 counts do not form a 2x2 matrix/);
  });
});

// Initializers: distributions match torch.nn.init's formulas (bounds and standard deviations).
import { describe, expect, test } from 'vitest';
import * as init from '../../lib/init/index.js';
import { zeros } from '../../lib/ops/creation.js';
import { manualSeed } from '../../lib/random.js';

function stats(d: ArrayLike<number>) {
  let s = 0;
  let s2 = 0;
  let maxAbs = 0;
  for (let i = 0; i < d.length; i++) { s += d[i]; s2 += d[i] * d[i]; maxAbs = Math.max(maxAbs, Math.abs(d[i])); }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(s2 / d.length - mean * mean), maxAbs };
}

describe('init', () => {
  test('fans for Linear [in,out] and conv HWIO [kh,kw,in,out]', () => {
    expect(init.computeFans([20, 30])).toEqual([20, 30]);
    expect(init.computeFans([3, 5, 4, 8])).toEqual([60, 120]);
    expect(() => init.computeFans([5])).toThrow(/rank >= 2/);
  });

  test('gains follow calculate_gain', () => {
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('leakyRelu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
  });

  test('constant and zeros', () => {
    const t = zeros([3]);
    expect(Array.from(init.constant(t, 2).data)).toEqual([2, 2, 2]);
    expect(Array.from(init.zeros(t).data)).toEqual([0, 0, 0]);
  });

  // 40000 draws: the sample std is within ~1% of the true one (relative standard error 1/sqrt(2n) ~ 0.35%).
  const shape = [200, 200];
  test.each([
    ['glorotUniform', (t: ReturnType<typeof zeros>) => init.glorotUniform(t), Math.sqrt(6 / 400) / Math.sqrt(3), Math.sqrt(6 / 400)],
    ['glorotNormal', (t: ReturnType<typeof zeros>) => init.glorotNormal(t), Math.sqrt(2 / 400), Infinity],
    ['heUniform relu', (t: ReturnType<typeof zeros>) => init.heUniform(t, { nonlinearity: 'relu' }), Math.sqrt(2 / 200), Math.sqrt(6 / 200)],
    ['heNormal fanOut', (t: ReturnType<typeof zeros>) => init.heNormal(t, { mode: 'fanOut', nonlinearity: 'relu' }), Math.sqrt(2 / 200), Infinity],
    ['lecunNormal', (t: ReturnType<typeof zeros>) => init.lecunNormal(t), Math.sqrt(1 / 200), Infinity],
    ['uniform(-2,2)', (t: ReturnType<typeof zeros>) => init.uniform(t, -2, 2), 4 / Math.sqrt(12), 2],
    ['normal(0,3)', (t: ReturnType<typeof zeros>) => init.normal(t, 0, 3), 3, Infinity],
  ])('%s has the documented spread', (_name, fn, std, bound) => {
    manualSeed(11);
    const t = fn(zeros(shape));
    const s = stats(t.data);
    expect(Math.abs(s.mean)).toBeLessThan(0.02 * std);
    expect(Math.abs(s.std / std - 1)).toBeLessThan(0.015);
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
  });

  test('bad arguments are named', () => {
    expect(() => init.uniform(zeros([2]), 1, 0)).toThrow(/init.uniform: need a <= b/);
    expect(() => init.heUniform(zeros([2, 2]), { mode: 'x' as never })).toThrow(/init.he: mode must be/);
  });
});

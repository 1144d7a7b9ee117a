// The metrics namespace: Tensor wrappers agree with the array metrics and hand counts; the streaming
// Metric objects fit uses give the same values over batches as over all samples at once.
import { describe, expect, test } from 'vitest';
import * as metrics from '../../lib/metrics/index.js';
import { Generator } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';

// The hand-worked example of test/metrics.test.ts, as model outputs:
//   true:  0 0 0 1 1 2 2 2
//   pred:  0 0 1 1 2 2 2 0
const target = [0, 0, 0, 1, 1, 2, 2, 2];
const pred = [0, 0, 1, 1, 2, 2, 2, 0];
/** Scores [8, 3] whose argmax is `pred`. */
const scores = new Tensor(Float32Array.from(pred.flatMap((p, i) => [0, 1, 2].map((c) => (c === p ? 2 + i * 0.1 : -1 - c * 0.5)))), [8, 3]);
const targetT = new Tensor(Int32Array.from(target), [8]);
const targetOneHot = new Tensor(Float32Array.from(target.flatMap((t) => [0, 1, 2].map((c) => (c === t ? 1 : 0)))), [8, 3]);

describe('Tensor wrappers', () => {
  test('accuracy from scores [N, C] vs int32 labels, one-hot targets or plain arrays: 5/8', () => {
    expect(metrics.accuracy(scores, targetT)).toBe(5 / 8);
    expect(metrics.accuracy(scores, targetOneHot)).toBe(5 / 8);
    expect(metrics.accuracy(pred, target)).toBe(5 / 8);
    expect(metrics.accuracy(new Tensor(Int32Array.from(pred), [8]), target)).toBe(5 / 8);
  });

  test('binary: [N, 1] probabilities thresholded at 0.5 (or a given threshold for logits)', () => {
    const p = new Tensor(Float32Array.from([0.9, 0.2, 0.6, 0.4]), [4, 1]);
    const t = new Tensor(Float32Array.from([1, 0, 0, 0]), [4, 1]);
    expect(metrics.accuracy(p, t)).toBe(3 / 4);
    expect(metrics.binaryAccuracy(p, t)).toBe(3 / 4);
    expect(metrics.binaryAccuracy(p, t, 0.65)).toBe(4 / 4);
    // Positive-class precision 1/2 (0.9 right, 0.6 wrong), recall 1/1.
    expect(metrics.precision(p, t)).toBe(0.5);
    expect(metrics.recall(p, t)).toBe(1);
    expect(metrics.f1(p, t)).toBeCloseTo(2 / 3, 12);
  });

  test('confusion matrix as an int32 [C, C] tensor; report, macro and per-class scores', () => {
    const cm = metrics.confusionMatrix(scores, targetT);
    expect(cm.dtype).toBe('int32');
    expect(cm.toArray()).toEqual([[2, 1, 0], [0, 1, 1], [1, 0, 2]]);
    expect(metrics.precision(scores, targetT, { average: 'none' })).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(metrics.recall(scores, targetT)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(metrics.f1(scores, targetOneHot)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(metrics.classificationReport(scores, targetT).support).toEqual([3, 2, 3]);
    // numClasses can exceed what the data shows.
    expect(metrics.confusionMatrix(pred, target, 4).shape).toEqual([4, 4]);
  });

  test('topKAccuracy over scores', () => {
    // Row scores rank the predicted class first; the target's rank decides top-2 membership.
    const s = new Tensor(Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5]), [3, 3]);
    const t = new Tensor(Int32Array.from([2, 0, 0]), [3]);
    expect(metrics.topKAccuracy(s, t, 1)).toBe(1 / 3);
    expect(metrics.topKAccuracy(s, t, 2)).toBe(2 / 3);
    expect(metrics.topKAccuracy(s, t, 3)).toBe(1);
  });

  test('mse, mae, r2 on tensors; r2 averages over output columns', () => {
    const p = new Tensor(Float32Array.from([1, 2, 3, 5]), [4, 1]);
    const t = new Tensor(Float32Array.from([1, 2, 4, 4]), [4, 1]);
    expect(metrics.mse(p, t)).toBe(0.5);
    expect(metrics.mae(p, t)).toBe(0.5);
    // mean 2.75, SS_tot = 3.0625+0.5625+1.5625+1.5625 = 6.75, SS_res = 2
    expect(metrics.r2(p, t)).toBeCloseTo(1 - 2 / 6.75, 12);
    const p2 = new Tensor(Float32Array.from([1, 0, 2, 0, 3, 1]), [3, 2]);
    const t2 = new Tensor(Float32Array.from([1, 0, 2, 1, 3, 2]), [3, 2]);
    // column 0 perfect (1); column 1 targets 0,1,2 (SS_tot 2) vs 0,0,1 (SS_res 2) -> 0.
    expect(metrics.r2(p2, t2)).toBeCloseTo(0.5, 12);
  });

  test('shape errors name the metric', () => {
    expect(() => metrics.accuracy(new Tensor(Float32Array.from([0.5, 1.5]), [2]), [0, 1])).toThrow(/accuracy: predicted\[0\] = 0.5 is not a class index/);
    expect(() => metrics.accuracy(scores, [0, 1])).toThrow('accuracy: predicted has 8 samples but target has 2');
    expect(() => metrics.accuracy(new Tensor(new Float32Array(8), [2, 2, 2]), target)).toThrow(/accuracy: predicted must be \[N\] class indices, \[N, C\] scores or \[N, 1\] binary values, got shape \[2,2,2\]/);
    expect(() => metrics.mse(new Tensor(new Float32Array(3), [3]), new Tensor(new Float32Array(2), [2]))).toThrow('mse: predicted has 3 values but target has 2');
  });
});

describe('streaming metric objects (what fit accumulates per epoch)', () => {
  /** Random scores [n, c] and labels; updates in uneven batches must equal the one-shot wrapper. */
  function randomCase(n: number, c: number, seed: number) {
    const g = new Generator(seed);
    const s = new Tensor(Float32Array.from({ length: n * c }, () => g.normal()), [n, c]);
    const t = new Tensor(Int32Array.from({ length: n }, () => g.randint(0, c)), [n]);
    return { s, t };
  }
  const batches = [7, 1, 12, 5]; // 25 samples

  function feed(m: metrics.Metric, s: Tensor, t: Tensor): number {
    m.reset();
    let at = 0;
    for (const b of batches) {
      m.update(s.slice([at, 0], [b, s.shape[1]]), t.slice([at], [b]));
      at += b;
    }
    return m.result();
  }

  test.each(['accuracy', 'precision', 'recall', 'f1'])('%s over uneven batches equals the whole-data value', (name) => {
    const { s, t } = randomCase(25, 4, 3);
    const m = metrics.resolveMetric(name);
    const whole: Record<string, number> = {
      accuracy: metrics.accuracy(s, t),
      precision: metrics.precision(s, t) as number,
      recall: metrics.recall(s, t) as number,
      f1: metrics.f1(s, t) as number,
    };
    expect(feed(m, s, t)).toBeCloseTo(whole[name], 12);
    expect(m.higherIsBetter).toBe(true);
  });

  test('topKAccuracy, mse, mae, r2 over batches equal the whole-data values', () => {
    const { s, t } = randomCase(25, 6, 4);
    expect(feed(new metrics.TopKAccuracy(3), s, t)).toBeCloseTo(metrics.topKAccuracy(s, t, 3), 12);
    const g = new Generator(5);
    const p = new Tensor(Float32Array.from({ length: 50 }, () => g.normal()), [25, 2]);
    const y = new Tensor(Float32Array.from({ length: 50 }, () => g.normal(100, 2)), [25, 2]);
    const feedReg = (m: metrics.Metric) => {
      m.reset();
      let at = 0;
      for (const b of batches) {
        m.update(p.slice([at, 0], [b, 2]), y.slice([at, 0], [b, 2]));
        at += b;
      }
      return m.result();
    };
    expect(feedReg(metrics.resolveMetric('mse'))).toBeCloseTo(metrics.mse(p, y), 9);
    expect(feedReg(metrics.resolveMetric('mae'))).toBeCloseTo(metrics.mae(p, y), 9);
    // Targets far from 0 (mean 100): Welford's update keeps R² exact where E[y²]-E[y]² would lose digits.
    expect(feedReg(metrics.resolveMetric('r2'))).toBeCloseTo(metrics.r2(p, y), 9);
    expect(metrics.resolveMetric('mse').higherIsBetter).toBe(false);
  });

  test('result() is NaN before any update; a named function is averaged by samples; unknown names list the known ones', () => {
    expect(metrics.resolveMetric('accuracy').result()).toBeNaN();
    const m = metrics.resolveMetric(function firstOutput(p: Tensor) { return p.data[0]; });
    m.reset();
    m.update(new Tensor(Float32Array.from([1, 0, 0]), [3, 1]), new Tensor(new Float32Array(3), [3, 1]));
    m.update(new Tensor(Float32Array.from([5]), [1, 1]), new Tensor(new Float32Array(1), [1, 1]));
    expect(m.name).toBe('firstOutput');
    expect(m.result()).toBe((1 * 3 + 5 * 1) / 4);
    expect(() => metrics.resolveMetric('auc')).toThrow(`metrics: unknown metric "auc"; known: ${metrics.METRIC_NAMES.join(', ')}`);
    expect(() => metrics.resolveMetric(() => 1)).toThrow(/a metric function needs a name/);
  });
});

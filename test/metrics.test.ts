import { describe, expect, test } from 'vitest';
import { accuracy, classificationReport, confusionMatrix, f1, precision, recall, topKAccuracy } from '../lib/metrics/classification.js';
import { mae, mse, r2 } from '../lib/metrics/regression.js';

describe('classification metrics', () => {
  // 3 classes; worked by hand:
  //   true:  0 0 0 1 1 2 2 2
  //   pred:  0 0 1 1 2 2 2 0
  const target = [0, 0, 0, 1, 1, 2, 2, 2];
  const pred = [0, 0, 1, 1, 2, 2, 2, 0];

  test('accuracy and the confusion matrix (rows true, columns predicted)', () => {
    expect(accuracy(pred, target)).toBe(5 / 8);
    expect(Array.from(confusionMatrix(pred, target, 3))).toEqual([2, 1, 0, 0, 1, 1, 1, 0, 2]);
  });

  test('per-class and macro precision, recall, F1', () => {
    const r = classificationReport(pred, target, 3);
    expect(r.precision).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(r.recall).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(r.support).toEqual([3, 2, 3]);
    expect(r.f1[1]).toBeCloseTo(0.5, 12);
    expect(precision(pred, target, 3)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
    expect(recall(pred, target, 3, 'none')).toEqual([2 / 3, 1 / 2, 2 / 3]);
    expect(f1(pred, target, 3)).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3, 12);
  });

  test('a class never predicted has precision 0, one never present has recall 0', () => {
    const r = classificationReport([0, 0], [0, 1], 3);
    expect(r.precision).toEqual([0.5, 0, 0]);
    expect(r.recall).toEqual([1, 0, 0]);
  });

  test('top-k accuracy counts the target among the k best scores', () => {
    const scores = [0.1, 0.7, 0.2, /* */ 0.5, 0.3, 0.2, /* */ 0.2, 0.3, 0.5];
    const t = [2, 1, 0];
    expect(topKAccuracy(scores, 3, t, 1)).toBe(0);
    expect(topKAccuracy(scores, 3, t, 2)).toBe(2 / 3);
    expect(topKAccuracy(scores, 3, t, 3)).toBe(1);
  });

  test('bad input names the metric and the value', () => {
    expect(() => accuracy([1, 2], [1])).toThrow(/^accuracy: predicted has 2 labels but target has 1/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/^confusionMatrix: predicted\[1\] = 3 is not a class index in \[0, 3\)/);
    expect(() => topKAccuracy([1, 2], 2, [0], 3)).toThrow(/^topKAccuracy: k must be in \[1, 2\], got 3/);
  });
});

describe('regression metrics', () => {
  test('mse, mae, r2 on a worked example', () => {
    const y = [3, -0.5, 2, 7];
    const p = [2.5, 0.0, 2, 8];
    expect(mse(p, y)).toBeCloseTo(0.375, 12);
    expect(mae(p, y)).toBeCloseTo(0.5, 12);
    // SS_res = 1.5; mean(y) = 2.875; SS_tot = 29.1875 -> 1 - 1.5/29.1875
    expect(r2(p, y)).toBeCloseTo(1 - 1.5 / 29.1875, 12);
  });

  test('r2 of a constant target', () => {
    expect(r2([1, 1], [1, 1])).toBe(1);
    expect(r2([1, 2], [1, 1])).toBe(0);
  });
});

// Scalers against hand-computed statistics, their errors, and oneHot.
import { describe, expect, test } from 'vitest';
import { MinMaxScaler, StandardScaler, oneHot } from '../../lib/data/preprocess.js';
import { Tensor } from '../../lib/tensor.js';

// Two features: column 0 = 1, 2, 3, 4 (mean 2.5, population variance 1.25); column 1 = 10, 10, 10, 10 (constant).
const train = new Tensor(Float32Array.from([1, 10, 2, 10, 3, 10, 4, 10]), [4, 2]);

describe('StandardScaler', () => {
  test('per-column mean and population std; a constant column is only centred', () => {
    const s = new StandardScaler().fit(train);
    expect(Array.from(s.mean)).toEqual([2.5, 10]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(s.scale[1]).toBe(1);
    const z = s.transform(train);
    const sd = Math.sqrt(1.25);
    const expected = [(1 - 2.5) / sd, 0, (2 - 2.5) / sd, 0, (3 - 2.5) / sd, 0, (4 - 2.5) / sd, 0];
    Array.from(z.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    // New data is scaled with the training statistics, not its own.
    const test2 = s.transform([[6, 12]]);
    expect(test2.data[0]).toBeCloseTo((6 - 2.5) / sd, 6);
    expect(test2.data[1]).toBeCloseTo(2, 6);
    // inverseTransform undoes transform.
    Array.from(s.inverseTransform(z).data).forEach((v, i) => expect(v).toBeCloseTo(train.data[i], 5));
    expect(Array.from(new StandardScaler().fitTransform(train).data)).toEqual(Array.from(z.data));
  });

  test('features are the last axis: [N, H, W, C] images scale per channel', () => {
    // 2 images of 1x2 pixels, 2 channels: channel 0 values 0, 2, 4, 6; channel 1 values 1, 1, 3, 3.
    const imgs = new Tensor(Float32Array.from([0, 1, 2, 1, 4, 3, 6, 3]), [2, 1, 2, 2]);
    const s = new StandardScaler().fit(imgs);
    expect(Array.from(s.mean)).toEqual([3, 2]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(5), 12); // deviations -3 -1 1 3 -> 20/4
    expect(s.scale[1]).toBeCloseTo(1, 12);
    expect(s.transform(imgs).shape).toEqual([2, 1, 2, 2]);
  });

  test('withMean / withStd false', () => {
    const s = new StandardScaler({ withMean: false }).fit(train);
    expect(s.transform([[2.5, 10]]).data[0]).toBeCloseTo(2.5 / Math.sqrt(1.25), 6);
    expect(Array.from(new StandardScaler({ withStd: false }).fit(train).transform([[2.5, 11]]).data)).toEqual([0, 1]);
  });

  test('refuses transform before fit, a different feature count, rank-1 input and non-finite training data', () => {
    expect(() => new StandardScaler().transform(train)).toThrow('StandardScaler.transform: the scaler is not fitted yet; call fit(trainingData) first');
    expect(() => new StandardScaler().inverseTransform(train)).toThrow(/StandardScaler.inverseTransform: the scaler is not fitted yet/);
    const s = new StandardScaler().fit(train);
    expect(() => s.transform([[1, 2, 3]])).toThrow('StandardScaler.transform: x has 3 features (shape [1,3]) but the scaler was fitted on 2');
    expect(() => s.fit(new Tensor(Float32Array.from([1, 2]), [2]))).toThrow('StandardScaler.fit: x must be [N, features] (got shape [2]); reshape a single feature to [N, 1]');
    expect(() => new StandardScaler().fit([[1, NaN]])).toThrow('StandardScaler.fit: x holds a non-finite value NaN at row 0, feature 1');
  });
});

describe('MinMaxScaler', () => {
  test('maps each column min..max to [0, 1] (a constant column to 0) and back', () => {
    const s = new MinMaxScaler().fit(train);
    expect(Array.from(s.dataMin)).toEqual([1, 10]);
    expect(Array.from(s.dataMax)).toEqual([4, 10]);
    const y = s.transform(train);
    const expected = [0, 0, 1 / 3, 0, 2 / 3, 0, 1, 0];
    Array.from(y.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    Array.from(s.inverseTransform(y).data).forEach((v, i) => expect(v).toBeCloseTo(train.data[i], 5));
  });

  test('featureRange [-1, 1]; values outside the training range extrapolate unless clip', () => {
    const s = new MinMaxScaler({ featureRange: [-1, 1] }).fit(train);
    expect(Array.from(s.transform([[2.5, 10], [7, 10]]).data)).toEqual([0, -1, 3, -1]);
    const clipped = new MinMaxScaler({ featureRange: [-1, 1], clip: true }).fit(train);
    expect(Array.from(clipped.transform([[7, 10], [-5, 10]]).data)).toEqual([1, -1, -1, -1]);
    expect(() => new MinMaxScaler({ featureRange: [1, 1] })).toThrow('MinMaxScaler: featureRange must be [lo, hi] with finite lo < hi, got [1,1]');
    expect(() => new MinMaxScaler().transform(train)).toThrow('MinMaxScaler.transform: the scaler is not fitted yet');
    expect(() => s.transform([[1]])).toThrow('MinMaxScaler.transform: x has 1 features (shape [1,1]) but the scaler was fitted on 2');
  });
});

describe('oneHot', () => {
  test('labels -> float32 [N, C] rows with a single 1', () => {
    const t = oneHot(new Tensor(Int32Array.from([2, 0, 1]), [3]), 3);
    expect(t.dtype).toBe('float32');
    expect(t.toArray()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    expect(oneHot([1, 1], 2).toArray()).toEqual([[0, 1], [0, 1]]);
    expect(oneHot(new Tensor(Float32Array.from([1, 0]), [2, 1]), 2).toArray()).toEqual([[0, 1], [1, 0]]);
  });

  test('refuses labels outside [0, C), fractional labels and a bad class count', () => {
    expect(() => oneHot([0, 3], 3)).toThrow('oneHot: label 3 at index 1 is not a class index in [0, 3)');
    expect(() => oneHot([0.5], 3)).toThrow('oneHot: label 0.5 at index 0 is not a class index in [0, 3)');
    expect(() => oneHot([0], 0)).toThrow('oneHot: numClasses must be an integer >= 1, got 0');
    expect(() => oneHot(new Tensor(new Float32Array(4), [2, 2]), 2)).toThrow('oneHot: labels must be [N] (or [N,1]), got shape [2,2]');
  });
});

// Small problems and fakes shared by the training tests.
import * as nn from '../../lib/nn/index.js';
import { Generator } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';

/**
 * Two Gaussian blobs in 2-D (class 0 around (-1,-1), class 1 around (1,1), std 0.5): a problem a
 * linear classifier solves to ~99%. Drawn from a local Generator, so it never disturbs the global one.
 */
export function blobs(n: number, seed = 1): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const centre = c === 0 ? -1 : 1;
    x[2 * i] = g.normal(centre, 0.5);
    x[2 * i + 1] = g.normal(centre, 0.5);
    y[i] = c;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n]) };
}

/** y = 2·x0 - 3·x1 + 0.5 (exact, no noise): a regression a Linear(2, 1) can fit to ~0 loss. */
export function linearTargets(n: number, seed = 2): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = g.uniform(-1, 1);
    x[2 * i + 1] = g.uniform(-1, 1);
    y[i] = 2 * x[2 * i] - 3 * x[2 * i + 1] + 0.5;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n, 1]) };
}

export function classifier(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Linear(8, 2));
}

/** A stream that records what is written; isTTY as given. */
export class FakeStream {
  readonly chunks: string[] = [];
  constructor(readonly isTTY: boolean, readonly columns?: number) {}
  write(text: string): boolean {
    this.chunks.push(text);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** Parameter values as plain arrays, for exact comparisons. */
export function weights(model: nn.Module): number[][] {
  return model.parameters().map((p) => Array.from(p.data));
}

/** Passes a deliberately ill-typed value through the type checker (for bad-input tests). */
export function untyped<T>(value: unknown): T {
  return value as T;
}

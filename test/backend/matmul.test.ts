// matmul: C[M,N] = act(op(A)·op(B) + bias + (accumulate ? C : 0)) on both backends.
import { describe, expect, it } from 'vitest';
import type { Activation, Backend, MatmulArgs } from '../../lib/backend/backend.js';
import { nativeAddon } from '../../lib/backend/index.js';
import type { NativeAddon, PackedMatmulB } from '../../lib/backend/native.js';
import {
  Rng,
  expectClose,
  expectIdentical,
  nativeBackend,
  nativeConfigs,
  reductionTolerance,
  referenceBackend,
  withNativeConfig,
  expectKernelError,
  callLoose,
} from '../helpers/parity.js';

const ACTIVATIONS: Activation[] = ['none', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh'];

function margs(m: number, n: number, k: number, over: Partial<MatmulArgs> = {}): MatmulArgs {
  return { m, n, k, transA: false, transB: false, accumulate: false, activation: 'none', alpha: 0, ...over };
}

function label(a: MatmulArgs, bias: boolean): string {
  return `m=${a.m} n=${a.n} k=${a.k}${a.transA ? ' transA' : ''}${a.transB ? ' transB' : ''}` +
    `${a.accumulate ? ' accumulate' : ''}${bias ? ' bias' : ''} act=${a.activation}(${a.alpha})`;
}

describe('matmul reference (hand-checked)', () => {
  const ref = referenceBackend;
  it('[2,2]x[2,2] plain, transA, transB', () => {
    const c = new Float32Array(4);
    ref.matmul(margs(2, 2, 2), new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), null, c);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    // A stored [K,M] and B stored [N,K]: the same op(A), op(B).
    ref.matmul(margs(2, 2, 2, { transA: true }), new Float32Array([1, 3, 2, 4]), new Float32Array([5, 6, 7, 8]), null, c);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    ref.matmul(margs(2, 2, 2, { transB: true }), new Float32Array([1, 2, 3, 4]), new Float32Array([5, 7, 6, 8]), null, c);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });

  it('m=2 k=3 n=1 with bias and relu / leakyRelu, accumulate', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([1, 0, -1]); // A·B = [-2, -2]
    const bias = new Float32Array([0.5]);
    const c = new Float32Array(2);
    ref.matmul(margs(2, 1, 3), a, b, bias, c);
    expect(Array.from(c)).toEqual([-1.5, -1.5]);
    ref.matmul(margs(2, 1, 3, { activation: 'relu' }), a, b, bias, c);
    expect(Array.from(c)).toEqual([0, 0]);
    ref.matmul(margs(2, 1, 3, { activation: 'leakyRelu', alpha: 0.5 }), a, b, bias, c);
    expect(Array.from(c)).toEqual([-0.75, -0.75]);
    c.set([10, 1]);
    ref.matmul(margs(2, 1, 3, { accumulate: true, activation: 'relu' }), a, b, bias, c); // relu(C - 1.5)
    expect(Array.from(c)).toEqual([8.5, 0]);
  });

  it('1x1x1 elu / sigmoid / tanh of -2', () => {
    const c = new Float32Array(1);
    const run = (activation: Activation, alpha: number) => {
      ref.matmul(margs(1, 1, 1, { activation, alpha }), new Float32Array([1]), new Float32Array([-2]), null, c);
      return c[0];
    };
    expect(run('elu', 1)).toBeCloseTo(Math.exp(-2) - 1, 6); // -0.864665
    expect(run('elu', 2)).toBeCloseTo(2 * (Math.exp(-2) - 1), 6);
    expect(run('sigmoid', 0)).toBeCloseTo(0.11920292, 6);
    expect(run('tanh', 0)).toBeCloseTo(-0.96402758, 6);
  });
});

// Runs one case on both backends from the same inputs; returns the native result.
function parityCase(native: Backend, rng: Rng, a: MatmulArgs, withBias: boolean, context: string): Float32Array {
  const A = rng.f32(a.m * a.k);
  const B = rng.f32(a.k * a.n);
  const bias = withBias ? rng.f32(a.n) : null;
  const c0 = rng.f32(a.m * a.n);
  const want = c0.slice();
  const got = c0.slice();
  referenceBackend.matmul(a, A, B, bias, want);
  native.matmul(a, A, B, bias, got);
  expectClose(got, want, reductionTolerance(a.k), `${label(a, withBias)} | ${context}`);
  return got;
}

describe('matmul parity: native vs reference', () => {
  const native = nativeBackend();
  for (const cfg of nativeConfigs()) {
    it(`every transpose x epilogue x accumulate x bias, random odd shapes (${cfg.label})`, () => {
      withNativeConfig(cfg, () => {
        const rng = new Rng(1234);
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const activation of ACTIVATIONS) {
              for (const accumulate of [false, true]) {
                for (const withBias of [false, true]) {
                  const alpha = activation === 'elu' ? rng.uniform(0.1, 2) : rng.uniform(0, 0.3);
                  const a = margs(rng.int(1, 45), rng.int(1, 70), rng.int(1, 50), {
                    transA, transB, accumulate, activation, alpha,
                  });
                  parityCase(native, rng, a, withBias, cfg.label);
                }
              }
            }
          }
        }
      });
    });

    it(`larger shapes across K/N blocks: m=131 n=77 k=401, m=3 n=700 k=97 transB, m=250 n=33 k=800 transA (${cfg.label})`, () => {
      withNativeConfig(cfg, () => {
        const rng = new Rng(99);
        parityCase(native, rng, margs(131, 77, 401, { activation: 'relu' }), true, cfg.label);
        parityCase(native, rng, margs(3, 700, 97, { transB: true, accumulate: true, activation: 'tanh' }), true, cfg.label);
        parityCase(native, rng, margs(250, 33, 800, { transA: true, activation: 'sigmoid' }), false, cfg.label);
      });
    });

    // K >= 4M with B transposed runs as Cᵀ = B·Aᵀ on AVX-512 (native/kernels/gemm.cc).
    it(`transposed B with K >= 4M: m=40 n=300 k=600 transB, m=68 n=100 k=280 and m=19 n=77 k=401 transA transB (${cfg.label})`, () => {
      withNativeConfig(cfg, () => {
        const rng = new Rng(7);
        parityCase(native, rng, margs(40, 300, 600, { transB: true }), false, cfg.label);
        parityCase(native, rng, margs(68, 100, 280, { transA: true, transB: true }), false, cfg.label);
        parityCase(native, rng, margs(19, 77, 401, { transA: true, transB: true }), false, cfg.label);
      });
    });
  }
});

describe('matmul threads', () => {
  const native = nativeBackend();
  const isas = [...new Set(nativeConfigs().map((c) => c.isa))];
  for (const isa of isas) {
    it(`1 vs 2 threads bit-identical: m=301 n=257 k=413 transB accumulate bias elu (${isa})`, () => {
      const rng = new Rng(5);
      const a = margs(301, 257, 413, { transB: true, accumulate: true, activation: 'elu', alpha: 0.8 });
      const A = rng.f32(a.m * a.k);
      const B = rng.f32(a.k * a.n);
      const bias = rng.f32(a.n);
      const c0 = rng.f32(a.m * a.n);
      const run = (threads: number) => withNativeConfig({ isa, threads, label: '' }, () => {
        const c = c0.slice();
        native.matmul(a, A, B, bias, c);
        return c;
      });
      expectIdentical(run(2), run(1), `${label(a, true)} ${isa}`);
    });

    it(`1 vs 2 threads bit-identical, B transposed with K >= 4M: m=64 n=256 k=784 (${isa})`, () => {
      const rng = new Rng(6);
      const a = margs(64, 256, 784, { transB: true });
      const A = rng.f32(a.m * a.k);
      const B = rng.f32(a.k * a.n);
      const run = (threads: number) => withNativeConfig({ isa, threads, label: '' }, () => {
        const c = new Float32Array(a.m * a.n);
        native.matmul(a, A, B, null, c);
        return c;
      });
      expectIdentical(run(2), run(1), `${label(a, false)} ${isa}`);
    });
  }
});

describe('matmul bad input', () => {
  const f = (n: number) => new Float32Array(n);
  type Call = [MatmulArgs, unknown, unknown, unknown, unknown];
  const ok = (): Call => [margs(2, 3, 4), f(8), f(12), f(3), f(6)];
  const bad = (patch: (c: Call) => void): Call => {
    const c = ok();
    patch(c);
    return c;
  };
  const shared = f(20);
  const cases: [string, Call, typeof TypeError | typeof RangeError][] = [
    ['a wrong length', bad((c) => { c[1] = f(7); }), RangeError],
    ['a Float64Array', bad((c) => { c[1] = new Float64Array(8); }), TypeError],
    ['b plain array', bad((c) => { c[2] = new Array(12).fill(0); }), TypeError],
    ['bias wrong length', bad((c) => { c[3] = f(4); }), RangeError],
    ['c null', bad((c) => { c[4] = null; }), TypeError],
    ['args null', bad((c) => { c[0] = null as unknown as MatmulArgs; }), TypeError],
    ['m = 0', bad((c) => { c[0] = margs(0, 3, 4); }), RangeError],
    ['n = -3', bad((c) => { c[0] = margs(2, -3, 4); }), RangeError],
    ['k = 2.5', bad((c) => { c[0] = margs(2, 3, 2.5); }), RangeError],
    ['m = NaN', bad((c) => { c[0] = margs(NaN, 3, 4); }), RangeError],
    ["m = '2' (string)", bad((c) => { c[0] = margs('2' as unknown as number, 3, 4); }), TypeError],
    ['transA missing', bad((c) => { c[0] = { ...margs(2, 3, 4), transA: undefined as unknown as boolean }; }), TypeError],
    ["activation 'gelu'", bad((c) => { c[0] = margs(2, 3, 4, { activation: 'gelu' as Activation }); }), RangeError],
    ['activation 5', bad((c) => { c[0] = margs(2, 3, 4, { activation: 5 as unknown as Activation }); }), TypeError],
    ['alpha NaN', bad((c) => { c[0] = margs(2, 3, 4, { activation: 'relu', alpha: NaN }); }), RangeError],
    ['leakyRelu alpha -0.1', bad((c) => { c[0] = margs(2, 3, 4, { activation: 'leakyRelu', alpha: -0.1 }); }), RangeError],
    ['elu alpha 0', bad((c) => { c[0] = margs(2, 3, 4, { activation: 'elu', alpha: 0 }); }), RangeError],
    ['c shares memory with a', bad((c) => {
      c[1] = new Float32Array(shared.buffer, 0, 8);
      c[4] = new Float32Array(shared.buffer, 16, 6);
    }), RangeError],
    ['huge m=n=k=2^20', bad((c) => { c[0] = margs(2 ** 20, 2 ** 20, 2 ** 20); }), RangeError],
    ['m = 2^31 (above the largest dimension)', bad((c) => { c[0] = margs(2 ** 31, 3, 4); }), RangeError],
  ];
  for (const backend of [referenceBackend, nativeBackend()]) {
    for (const [name, call, errorClass] of cases) {
      it(`${name} -> ${errorClass.name} (${backend.name})`, () => {
        expectKernelError(() => callLoose(backend, 'matmul', ...call), errorClass, 'matmul');
      });
    }
    it(`still works after bad input (${backend.name})`, () => {
      const c = f(4);
      backend.matmul(margs(2, 2, 2), new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), null, c);
      expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    });
  }
});

// Small m (<= 8, B not transposed) runs a direct kernel that reads A and B in place.
describe('matmul small m (direct path)', () => {
  const native = nativeBackend();
  for (const cfg of nativeConfigs()) {
    it(`m=1..8 n=150 k=300 and n=1000 k=37 (threads split n), transA, every epilogue (${cfg.label})`, () => {
      withNativeConfig(cfg, () => {
        const rng = new Rng(77);
        for (let m = 1; m <= 8; m++) {
          const activation = ACTIVATIONS[m % ACTIVATIONS.length];
          const alpha = activation === 'elu' ? 0.9 : 0.1;
          parityCase(native, rng, margs(m, 150, 300, { transA: m % 2 === 0, activation, alpha, accumulate: m % 3 === 0 }), m % 2 === 1, cfg.label);
          parityCase(native, rng, margs(m, 1000, 37, { transA: m % 2 === 1, activation, alpha }), true, cfg.label);
        }
      });
    });
  }
  for (const isa of [...new Set(nativeConfigs().map((c) => c.isa))]) {
    it(`1 vs 2 threads bit-identical: m=3 n=3000 k=500 bias relu (${isa})`, () => {
      const rng = new Rng(8);
      const a = margs(3, 3000, 500, { activation: 'relu' });
      const A = rng.f32(a.m * a.k);
      const B = rng.f32(a.k * a.n);
      const bias = rng.f32(a.n);
      const run = (threads: number) => withNativeConfig({ isa, threads, label: '' }, () => {
        const c = new Float32Array(a.m * a.n);
        native.matmul(a, A, B, bias, c);
        return c;
      });
      expectIdentical(run(2), run(1), `${label(a, true)} ${isa}`);
    });
  }
});

// packMatmulB / matmulPacked: extra addon functions (not part of the Backend interface).
describe('matmul with prepacked B (native addon)', () => {
  const addon = (): NativeAddon => {
    const a = nativeAddon();
    if (!a) throw new Error('native addon did not load');
    return a;
  };
  const native = nativeBackend();

  for (const cfg of nativeConfigs()) {
    it(`pack once, reuse for several A / epilogues; same bits as matmul for m > 8 (${cfg.label})`, () => {
      withNativeConfig(cfg, () => {
        const rng = new Rng(31);
        for (const [k, n, transB] of [[300, 70, false], [1, 1, false], [517, 45, true]] as [number, number, boolean][]) {
          const B = rng.f32(k * n);
          const bias = rng.f32(n);
          const packed = addon().packMatmulB({ k, n, transB }, B);
          expect(packed.k).toBe(k);
          expect(packed.n).toBe(n);
          expect(packed.transB).toBe(transB);
          expect(Object.isFrozen(packed)).toBe(true);
          for (const [m, transA, activation, accumulate] of [
            [1, false, 'relu', false], [6, true, 'none', true], [37, false, 'tanh', false], [29, true, 'elu', true],
          ] as [number, boolean, Activation, boolean][]) {
            const a = margs(m, n, k, { transA, transB, activation, alpha: activation === 'elu' ? 0.5 : 0, accumulate });
            const A = rng.f32(m * k);
            const c0 = rng.f32(m * n);
            const want = c0.slice();
            referenceBackend.matmul(a, A, B, bias, want);
            const got = c0.slice();
            const { transB: _unused, ...packedArgs } = a;
            addon().matmulPacked(packedArgs, A, packed, bias, got);
            expectClose(got, want, reductionTolerance(k), `prepacked ${label(a, true)} | ${cfg.label}`);
            if (m > 8) {
              const direct = c0.slice();
              native.matmul(a, A, B, bias, direct);
              expectIdentical(got, direct, `prepacked vs matmul ${label(a, true)} | ${cfg.label}`);
            }
          }
        }
      });
    });
  }

  it('1 vs 2 threads bit-identical: m=200 n=300 k=400 prepacked', () => {
    const rng = new Rng(9);
    const [m, n, k] = [200, 300, 400];
    const B = rng.f32(k * n);
    const A = rng.f32(m * k);
    const packed = addon().packMatmulB({ k, n, transB: false }, B);
    const run = (threads: number) => withNativeConfig({ isa: addon().backendInfo().isa, threads, label: '' }, () => {
      const c = new Float32Array(m * n);
      addon().matmulPacked({ m, n, k, transA: false, accumulate: false, activation: 'sigmoid', alpha: 0 }, A, packed, null, c);
      return c;
    });
    expectIdentical(run(2), run(1), 'prepacked m=200 n=300 k=400');
  });

  it('a handle packed at one ISA keeps working after setIsa (runs its own kernel)', () => {
    const isas = addon().backendInfo().availableIsas;
    const rng = new Rng(10);
    const [m, n, k] = [20, 33, 50];
    const B = rng.f32(k * n);
    const A = rng.f32(m * k);
    const want = new Float32Array(m * n);
    referenceBackend.matmul(margs(m, n, k), A, B, null, want);
    const packed = withNativeConfig({ isa: isas[isas.length - 1], threads: 1, label: '' }, () =>
      addon().packMatmulB({ k, n, transB: false }, B));
    withNativeConfig({ isa: isas[0], threads: 1, label: '' }, () => {
      const got = new Float32Array(m * n);
      addon().matmulPacked({ m, n, k, transA: false, accumulate: false, activation: 'none', alpha: 0 }, A, packed, null, got);
      expectClose(got, want, reductionTolerance(k), `packed with ${packed.kernel}, run at ${isas[0]}`);
    });
  });

  describe('bad input', () => {
    const f = (len: number) => new Float32Array(len);
    const pargs = (m: number, n: number, k: number) =>
      ({ m, n, k, transA: false, accumulate: false, activation: 'none' as Activation, alpha: 0 });
    const packCases: [string, unknown[], typeof TypeError | typeof RangeError][] = [
      ['b wrong length', [{ k: 4, n: 3, transB: false }, f(11)], RangeError],
      ['b Float64Array', [{ k: 4, n: 3, transB: false }, new Float64Array(12)], TypeError],
      ['k = 0', [{ k: 0, n: 3, transB: false }, f(0)], RangeError],
      ['n NaN', [{ k: 4, n: NaN, transB: false }, f(12)], RangeError],
      ['transB missing', [{ k: 4, n: 3 }, f(12)], TypeError],
      ['args null', [null, f(12)], TypeError],
      ['huge k=n=2^20', [{ k: 2 ** 20, n: 2 ** 20, transB: false }, f(12)], RangeError],
      ['one argument', [{ k: 4, n: 3, transB: false }], TypeError],
    ];
    for (const [name, call, errorClass] of packCases) {
      it(`packMatmulB: ${name} -> ${errorClass.name}`, () => {
        expectKernelError(() => (addon().packMatmulB as (...args: unknown[]) => unknown)(...call), errorClass, 'packMatmulB');
      });
    }

    const good = (): PackedMatmulB => addon().packMatmulB({ k: 4, n: 3, transB: false }, f(12));
    const matmulCases: [string, () => unknown[], typeof TypeError | typeof RangeError][] = [
      ['packedB a look-alike plain object', () => [pargs(2, 3, 4), f(8), { k: 4, n: 3, transB: false, kernel: 'x' }, null, f(6)], TypeError],
      ['packedB null', () => [pargs(2, 3, 4), f(8), null, null, f(6)], TypeError],
      ['packedB a Float32Array', () => [pargs(2, 3, 4), f(8), f(12), null, f(6)], TypeError],
      ['packedB a copy of a handle', () => [pargs(2, 3, 4), f(8), { ...good() }, null, f(6)], TypeError],
      ['k differs from the handle', () => [pargs(2, 3, 5), f(10), good(), null, f(6)], RangeError],
      ['n differs from the handle', () => [pargs(2, 4, 4), f(8), good(), null, f(8)], RangeError],
      ['a wrong length', () => [pargs(2, 3, 4), f(7), good(), null, f(6)], RangeError],
      ['bias wrong length', () => [pargs(2, 3, 4), f(8), good(), f(2), f(6)], RangeError],
      ['c wrong length', () => [pargs(2, 3, 4), f(8), good(), null, f(5)], RangeError],
      ['c plain array', () => [pargs(2, 3, 4), f(8), good(), null, [0, 0, 0, 0, 0, 0]], TypeError],
      ['activation gelu', () => [{ ...pargs(2, 3, 4), activation: 'gelu' }, f(8), good(), null, f(6)], RangeError],
      ['elu alpha 0', () => [{ ...pargs(2, 3, 4), activation: 'elu' }, f(8), good(), null, f(6)], RangeError],
      ['m = 0', () => [pargs(0, 3, 4), f(0), good(), null, f(0)], RangeError],
      ['huge m = 2^31', () => [pargs(2 ** 31, 3, 4), f(8), good(), null, f(6)], RangeError],
    ];
    for (const [name, make, errorClass] of matmulCases) {
      it(`matmulPacked: ${name} -> ${errorClass.name}`, () => {
        expectKernelError(() => (addon().matmulPacked as (...args: unknown[]) => unknown)(...make()), errorClass, 'matmulPacked');
      });
    }
    it('releasePackedB frees a handle: later use throws, a second release and other handles are fine', () => {
      const kept = good();
      const released = good();
      addon().releasePackedB(released);
      expectKernelError(() => addon().matmulPacked(pargs(2, 3, 4), f(8), released, null, f(6)), TypeError, 'matmulPacked');
      addon().releasePackedB(released);
      const c = f(6);
      addon().matmulPacked(pargs(2, 3, 4), Float32Array.from({ length: 8 }, (_, i) => i), kept, null, c);
      expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
      for (const bad of [null, {}, { ...kept }, f(12)]) {
        expectKernelError(() => (addon().releasePackedB as (x: unknown) => void)(bad), TypeError, 'releasePackedB');
      }
    });
    it('still works after bad input', () => {
      const packed = addon().packMatmulB({ k: 2, n: 2, transB: false }, new Float32Array([5, 6, 7, 8]));
      const c = f(4);
      addon().matmulPacked(pargs(2, 2, 2), new Float32Array([1, 2, 3, 4]), packed, null, c);
      expect(Array.from(c)).toEqual([19, 22, 43, 50]);
    });
  });
});

describe('matmul epilogue and NaN', () => {
  // relu keeps NaN on every backend and ISA (as PyTorch does); both backends must agree exactly.
  for (const backendName of ['reference', 'native'] as const) {
    it(`${backendName}: relu(NaN) stays NaN, relu of negatives is 0, on every native config`, () => {
      const configs = backendName === 'native' ? nativeConfigs() : [null];
      for (const cfg of configs) {
        const run = () => {
          const b = backendName === 'native' ? nativeBackend() : referenceBackend;
          // A [3,2] with a NaN in row 1; B [2,17] (odd N: the masked tail of every tile width).
          const a = Float32Array.from([1, 2, NaN, 1, -1, -2]);
          const bm = new Float32Array(2 * 17).fill(1);
          const c = new Float32Array(3 * 17);
          b.matmul({ m: 3, n: 17, k: 2, transA: false, transB: false, accumulate: false, activation: 'relu', alpha: 0 }, a, bm, null, c);
          for (let j = 0; j < 17; j++) {
            expect(c[j], `row 0 col ${j} ${cfg?.label ?? ''}`).toBe(3);
            expect(Number.isNaN(c[17 + j]), `row 1 col ${j} ${cfg?.label ?? ''}`).toBe(true);
            expect(c[34 + j], `row 2 col ${j} ${cfg?.label ?? ''}`).toBe(0);
          }
        };
        if (cfg) withNativeConfig(cfg, run);
        else run();
      }
    });
  }
});

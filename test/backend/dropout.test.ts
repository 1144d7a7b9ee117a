// Dropout on both backends: the mask follows the documented counter-based hash (checked against a
// BigInt re-derivation), is bit-identical between backends, ISAs and thread counts, keeps about 1-p of
// the elements, and bad input throws.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
import { expectIdentical, nativeBackend, nativeConfigs, referenceBackend, Rng, withNativeConfig } from '../helpers/parity.js';

const ref = referenceBackend;

// lowbias32 with explicit BigInt arithmetic mod 2^32: independent of the Math.imul version under test.
const MOD = 1n << 32n;
function hash(v: bigint): bigint {
  v ^= v >> 16n;
  v = (v * 0x7feb352dn) % MOD;
  v ^= v >> 15n;
  v = (v * 0x846ca68bn) % MOD;
  v ^= v >> 16n;
  return v;
}
function keep(seed: number, i: number, p: number): boolean {
  const h = hash(((BigInt(i) * 0x9e3779b9n) % MOD + hash(BigInt(seed))) % MOD);
  return Number(h >> 8n) / 2 ** 24 >= p;
}

function run(b: Backend, p: number, seed: number, x: Float32Array) {
  const y = new Float32Array(x.length);
  const mask = new Float32Array(x.length);
  b.dropout(p, seed, x, y, mask);
  return { y, mask };
}

describe('dropout reference: the documented formula', () => {
  for (const [p, seed] of [[0.5, 0], [0.3, 42], [0.9, 4294967295]] as const) {
    it(`n=257 p=${p} seed=${seed}: mask[i] = keep(seed, i) ? 1/(1-p) : 0, y = x·mask`, () => {
      const x = new Rng(3).f32(257);
      const { y, mask } = run(ref, p, seed, x);
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < x.length; i++) {
        const expected = keep(seed, i, p) ? scale : 0;
        expect(mask[i], `mask[${i}]`).toBe(expected);
        expect(y[i], `y[${i}]`).toBe(Math.fround(x[i] * expected));
      }
    });
  }

  it('p=0 keeps every element and y equals x', () => {
    const x = new Rng(4).f32(1000);
    const { y, mask } = run(ref, 0, 99, x);
    expect(mask.every((m) => m === 1)).toBe(true);
    expectIdentical(y, x, 'y');
  });
});

describe('dropout parity: native mask bit-identical to the reference', () => {
  const native = nativeBackend();
  const rng = new Rng(5);
  for (const cfg of nativeConfigs()) {
    for (const [n, p, seed] of [[1, 0.5, 1], [7, 0.2, 0], [1001, 0.5, 123456789], [70001, 0.75, 4294967295],
      [rng.int(1, 5000), rng.next() * 0.99, rng.int(0, 2 ** 32 - 1)]] as const) {
      it(`n=${n} p=${p.toFixed(3)} seed=${seed} ${cfg.label}`, () => {
        const x = rng.f32(n, -3, 3);
        const e = run(ref, p, seed, x);
        const a = withNativeConfig(cfg, () => run(native, p, seed, x));
        expectIdentical(a.mask, e.mask, `mask n=${n} p=${p} seed=${seed} ${cfg.label}`);
        expectIdentical(a.y, e.y, `y n=${n} p=${p} seed=${seed} ${cfg.label}`);
      });
    }
  }

  it('native 1 vs 2 threads bit-identical on n=2^18+3', () => {
    const x = rng.f32(2 ** 18 + 3);
    const [one, two] = [1, 2].map((threads) =>
      withNativeConfig({ isa: native.info().isa, threads, label: `x${threads}` }, () => run(native, 0.4, 2024, x)));
    expectIdentical(two.mask, one.mask, 'mask');
    expectIdentical(two.y, one.y, 'y');
  });
});

describe.each([
  ['reference', () => referenceBackend],
  ['native', () => nativeBackend()],
] as const)('dropout statistics (%s)', (_name, getBackend) => {
  it('keep rate within 0.005 of 1-p on n=2^20 for p = 0.1, 0.5, 0.8', () => {
    const x = new Float32Array(2 ** 20).fill(1);
    for (const p of [0.1, 0.5, 0.8]) {
      const { mask } = run(getBackend(), p, 17, x);
      const kept = mask.reduce((s, m) => s + (m !== 0 ? 1 : 0), 0) / mask.length;
      expect(Math.abs(kept - (1 - p)), `p=${p}: kept ${kept}`).toBeLessThan(0.005);
    }
  });

  it('p=0 keeps all on n=100003; different seeds give different masks', () => {
    const x = new Rng(8).f32(100003);
    const a = run(getBackend(), 0, 5, x);
    expect(a.mask.every((m) => m === 1)).toBe(true);
    expectIdentical(a.y, x, 'y');
    const s1 = run(getBackend(), 0.5, 1, x).mask;
    const s2 = run(getBackend(), 0.5, 2, x).mask;
    const agree = s1.reduce((s, m, i) => s + ((m !== 0) === (s2[i] !== 0) ? 1 : 0), 0) / s1.length;
    expect(Math.abs(agree - 0.5), `agreement ${agree}`).toBeLessThan(0.01);
  });
});

type ErrorClass = typeof TypeError | typeof RangeError;

describe.each([
  ['reference', () => referenceBackend],
  ['native', () => nativeBackend()],
] as const)('dropout bad input (%s)', (_name, getBackend) => {
  const call = (...args: unknown[]) => (getBackend().dropout as unknown as (...a: unknown[]) => void)(...args);
  const F = (n: number) => new Float32Array(n);
  const good = () => [0.5, 1, F(4), F(4), F(4)];
  const cases: [string, (a: unknown[]) => void, ErrorClass][] = [
    ['p=1', (a) => { a[0] = 1; }, RangeError],
    ['p=-0.1', (a) => { a[0] = -0.1; }, RangeError],
    ['p=NaN', (a) => { a[0] = NaN; }, RangeError],
    ['p string', (a) => { a[0] = '0.5'; }, TypeError],
    ['seed=-1', (a) => { a[1] = -1; }, RangeError],
    ['seed=2^32', (a) => { a[1] = 2 ** 32; }, RangeError],
    ['seed=1.5', (a) => { a[1] = 1.5; }, RangeError],
    ['seed=NaN', (a) => { a[1] = NaN; }, RangeError],
    ['seed bigint', (a) => { a[1] = 1n; }, TypeError],
    ['x Float64Array', (a) => { a[2] = new Float64Array(4); }, TypeError],
    ['x plain array', (a) => { a[2] = [1, 2, 3, 4]; }, TypeError],
    ['x empty', (a) => { a[2] = F(0); a[3] = F(0); a[4] = F(0); }, RangeError],
    ['y wrong length', (a) => { a[3] = F(5); }, RangeError],
    ['mask null', (a) => { a[4] = null; }, TypeError],
  ];
  for (const [label, mutate, cls] of cases) {
    it(`dropout: ${label} -> ${cls.name}`, () => {
      const args = good();
      mutate(args);
      let err: unknown;
      try {
        call(...args);
      } catch (e) {
        err = e;
      }
      expect(err, `${label}: nothing thrown`).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(/^dropout: /);
    });
  }
  it('keeps working after bad input', () => {
    expect(() => call(...good())).not.toThrow();
  });
});

// Seeded random numbers. One global generator feeds every random draw in the library (initializers,
// rand/randn, dropout seeds, shuffling), so `manualSeed(n)` makes a whole program reproducible.
//
// The generator is xoshiro128** (Blackman & Vigna): 128 bits of state, period 2^128 - 1, fast with
// 32-bit integer math (Math.imul), and it passes BigCrush. The state is filled from the seed with a
// Weyl sequence passed through the murmur3 finalizer (splitmix-style), so nearby seeds give unrelated
// streams. Normals use the Box-Muller transform on 53-bit uniforms.

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** murmur3's 32-bit finalizer: a bijective mix of all input bits. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Generator {
  private s = new Uint32Array(4);
  /** Box-Muller makes normals in pairs; the second one waits here. */
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restarts the stream. Any integer in [0, 2^53) is a distinct seed. */
  manualSeed(seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let weyl = mix32(lo ^ mix32(hi ^ 0x5bd1e995));
    for (let i = 0; i < 4; i++) {
      weyl = (weyl + 0x9e3779b9) >>> 0;
      this.s[i] = mix32(weyl);
    }
    // xoshiro must not start from the all-zero state (it would stay there).
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spareNormal = null;
  }

  /** @internal The whole state, for restoreState (fit's recorded step draws a step's seeds twice once). */
  saveState(): { s: Uint32Array; spareNormal: number | null } {
    return { s: this.s.slice(), spareNormal: this.spareNormal };
  }

  /** @internal Puts back a state from saveState: the stream continues from there. */
  restoreState(state: { s: Uint32Array; spareNormal: number | null }): void {
    this.s.set(state.s);
    this.spareNormal = state.spareNormal;
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.nextDouble();
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    const u1 = 1 - this.nextDouble(); // (0, 1]: log(u1) is finite
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [lo, hi) (unbiased: rejection sampling). */
  randint(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi <= lo || hi - lo > TWO_POW_32) {
      throw new RangeError(`randint: need integers lo < hi with hi - lo <= 2^32, got [${lo}, ${hi})`);
    }
    const range = hi - lo;
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return lo + (u % range);
    }
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be an integer >= 0, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(0, i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

/** PyTorch's default generator also starts from a fixed seed; so do we. */
const DEFAULT_SEED = 5489;

/** The generator every library draw uses. */
export const globalGenerator = new Generator(DEFAULT_SEED);

/** Seeds the global generator: everything random afterwards is reproducible. */
export function manualSeed(seed: number): void {
  globalGenerator.manualSeed(seed);
}

/** A random permutation of 0..n-1 from the global generator (for shuffling datasets). */
export function randperm(n: number): Int32Array {
  return globalGenerator.permutation(n);
}

// Optimizer base: parameter groups kept in flat buffers, so each update is ONE fused backend kernel
// call per group.
//
// Why flat views rather than gather/scatter: when the optimizer is built, each group's parameter
// values are copied into one Float32Array and every parameter's `data` becomes a subarray view of it;
// gradients likewise live in one flat buffer once adopted. The kernel then updates the whole group in
// place with no copying on each step, and the per-parameter tensors see the new values immediately.
// The views are checked at every step: a parameter whose data or grad was replaced (a fresh gradient
// after zeroGrad({ setToNone: true }), a state dict loaded by assignment, another optimizer that
// adopted the same parameter) is copied back into the flat buffer and re-linked, so results never
// depend on who touched the tensors last.
//
// Which parameters update: those with requiresGrad (not frozen) and a gradient (PyTorch skips
// parameters whose grad is None). Active parameters that sit next to each other in the group and share
// the same step count form one run; normally the whole group is one run, so one kernel call. Frozen
// parameters split the group into runs, each still one fused call over contiguous subarrays.
//
// A parameter of 1024 floats or more starts on a 16-float (64-byte) boundary of the flat buffers, which
// start on one too (alloc.ts): a weight is the B operand of its layer's GEMM, read in place in 64-byte
// vectors (alloc.ts has the measurements). Smaller ones (biases) follow the previous parameter directly.
// The few floats of padding before an aligned parameter stay zero: w and g are zero there, the state
// there starts as an untouched parameter's (zero moments and momentum, AdaGrad's initial sum; zero
// after loadStateDict), and every update leaves such an element at w = 0. State dicts leave the padding
// out, so their layout is the parameters back to back, as before the alignment.

import { zeroedFloat32 } from '../backend/alloc.js';
import { Tensor, formatShape } from '../tensor.js';

/** Floats a large parameter's view in the flat buffers is aligned to (64 bytes), and what counts as large. */
const PARAM_ALIGNMENT = 16;
const ALIGNED_PARAM_MIN_SIZE = 1024;

/** One group as users pass it: its parameters plus hyperparameters overriding the defaults. */
export type ParamGroupSpec<H> = { params: readonly Tensor[] } & Partial<H>;

export type ParamsArg<H> = readonly Tensor[] | readonly ParamGroupSpec<H>[];

/** A group as the optimizer holds it: parameters and the full hyperparameters (editable, e.g. lr). */
export type ParamGroup<H> = { params: Tensor[] } & H;

/** A run of adjacent active parameters: offsets into the flat buffers and their shared step count. */
export interface Run {
  begin: number;
  end: number;
  /** Steps already taken by these parameters before this one (0 on their first update). */
  step: number;
  /** Where each parameter of the run starts, from begin (the kernels' paramStarts: their thread split). */
  paramStarts: number[];
}

interface FlatGroup {
  w: Float32Array;
  g: Float32Array;
  /** Parameter i's view is [begins[i], ends[i]) of w and g; the floats between views are padding. */
  begins: number[];
  ends: number[];
  /** Optimizer state buffers (momentum, moments, ...), same length as w, created on first use. */
  state: Map<string, Float32Array>;
  /** Updates each parameter has received. */
  steps: number[];
}

export interface OptimizerStateDict {
  paramGroups: Record<string, number | boolean | number[]>[];
  state: { steps: number[]; buffers: Record<string, Float32Array> }[];
}

function paramSizes(f: FlatGroup): number[] {
  return f.begins.map((b, i) => f.ends[i] - b);
}

/** A state buffer without the padding between parameters (the state dict's layout). */
function unpadded(f: FlatGroup, v: Float32Array): Float32Array {
  const out = new Float32Array(paramSizes(f).reduce((a, b) => a + b, 0));
  let at = 0;
  f.begins.forEach((b, i) => {
    out.set(v.subarray(b, f.ends[i]), at);
    at += f.ends[i] - b;
  });
  return out;
}

/** The inverse: a state dict's buffer laid out as w is, zeros in the padding. */
function padded(f: FlatGroup, v: Float32Array): Float32Array {
  const out = new Float32Array(f.w.length);
  let at = 0;
  f.begins.forEach((b, i) => {
    out.set(v.subarray(at, at + f.ends[i] - b), b);
    at += f.ends[i] - b;
  });
  return out;
}

function isGroupSpec<H>(v: Tensor | ParamGroupSpec<H>): v is ParamGroupSpec<H> {
  return !(v instanceof Tensor) && typeof v === 'object' && v !== null && 'params' in v;
}

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[] = [];
  private readonly flat: FlatGroup[] = [];

  protected constructor(private readonly optName: string, params: ParamsArg<H>, readonly defaults: H) {
    if (!Array.isArray(params) || params.length === 0) {
      throw new RangeError(`${optName}: params must be a non-empty array of tensors or of { params } groups`);
    }
    const specs: ParamGroupSpec<H>[] = params.every((p: Tensor | ParamGroupSpec<H>) => p instanceof Tensor)
      ? [{ params: params as readonly Tensor[] } as ParamGroupSpec<H>]
      : params.map((p: Tensor | ParamGroupSpec<H>, i: number) => {
        if (!isGroupSpec(p)) throw new TypeError(`${optName}: params[${i}] must be a { params: Tensor[] } group when groups are used`);
        return p;
      });
    const seen = new Set<Tensor>();
    for (const spec of specs) this.addParamGroup(spec, seen);
  }

  private addParamGroup(spec: ParamGroupSpec<H>, seen: Set<Tensor>): void {
    const name = this.optName;
    if (!Array.isArray(spec.params) || spec.params.length === 0) throw new RangeError(`${name}: a parameter group has no params`);
    const group = { ...this.defaults, ...spec, params: [...spec.params] } as ParamGroup<H>;
    this.validate(group);
    let total = 0;
    const begins: number[] = [];
    const ends: number[] = [];
    group.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || p.dtype !== 'float32') throw new TypeError(`${name}: params[${i}] must be a float32 Tensor`);
      if (!p.isLeaf) throw new RangeError(`${name}: params[${i}] (shape ${formatShape(p.shape)}) is not a leaf tensor; optimize leaves only`);
      if (seen.has(p)) throw new RangeError(`${name}: params[${i}] (shape ${formatShape(p.shape)}) appears in more than one place`);
      seen.add(p);
      if (p.size >= ALIGNED_PARAM_MIN_SIZE) total = Math.ceil(total / PARAM_ALIGNMENT) * PARAM_ALIGNMENT;
      begins.push(total);
      total += p.size;
      ends.push(total);
    });
    const w = zeroedFloat32(total);
    const g = zeroedFloat32(total);
    group.params.forEach((p, i) => {
      w.set(p.data, begins[i]);
      p.data = w.subarray(begins[i], ends[i]);
      if (p.grad !== null) {
        g.set(p.grad.data, begins[i]);
        p.grad = new Tensor(g.subarray(begins[i], ends[i]), p.shape);
      }
    });
    this.paramGroups.push(group);
    this.flat.push({ w, g, begins, ends, state: new Map(), steps: group.params.map(() => 0) });
  }

  /** Checks a group's hyperparameters; throws with the bad value. */
  protected abstract validate(group: H): void;

  /** Runs the fused update kernel once over [run.begin, run.end) of the group's flat buffers. */
  protected abstract update(group: H, w: Float32Array, g: Float32Array, state: (name: string, init?: number) => Float32Array, run: Run): void;

  /** Makes p.data and p.grad views of the flat buffers again if something replaced them. */
  private relink(f: FlatGroup, p: Tensor, i: number): void {
    const begin = f.begins[i];
    const end = f.ends[i];
    const isView = (a: ArrayBufferView, flat: Float32Array) =>
      a.buffer === flat.buffer && a.byteOffset === flat.byteOffset + begin * 4 && (a as Float32Array).length === end - begin;
    if (!isView(p.data, f.w)) {
      if (p.data.length !== end - begin) throw new RangeError(`${this.optName}: a parameter changed size from ${end - begin} to ${p.data.length}`);
      f.w.set(p.data, begin);
      p.data = f.w.subarray(begin, end);
    }
    if (p.grad !== null && !isView(p.grad.data, f.g)) {
      f.g.set(p.grad.data, begin);
      p.grad = new Tensor(f.g.subarray(begin, end), p.shape);
    }
  }

  /** One update of every trainable parameter that has a gradient. */
  step(): void {
    this.paramGroups.forEach((group, gi) => {
      this.validate(group);
      const f = this.flat[gi];
      const state = (name: string, init = 0): Float32Array => {
        let buf = f.state.get(name);
        if (buf === undefined) {
          buf = new Float32Array(f.w.length).fill(init);
          f.state.set(name, buf);
        }
        return buf;
      };
      let run: Run | null = null;
      const flush = () => {
        if (run === null) return;
        const { begin, end } = run;
        this.update(group, f.w.subarray(begin, end), f.g.subarray(begin, end), (name, init) => state(name, init).subarray(begin, end), run);
        run = null;
      };
      group.params.forEach((p, i) => {
        this.relink(f, p, i);
        const active = p.requiresGrad && p.grad !== null;
        if (!active || (run !== null && run.step !== f.steps[i])) flush();
        if (!active) return;
        if (run === null) {
          run = { begin: f.begins[i], end: f.ends[i], step: f.steps[i], paramStarts: [0] };
        } else {
          run.paramStarts.push(f.begins[i] - run.begin);
          run.end = f.ends[i];
        }
        f.steps[i]++;
      });
      flush();
    });
  }

  /**
   * Clears gradients. Default: zero them in place (they stay views of the flat buffer, so the next
   * backward accumulates straight into it). setToNone: drop them (PyTorch's default), so parameters
   * that get no gradient are skipped by the next step.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        // Deferred: the next backward writes over the buffer, and any read before that sees zeros
        // (Tensor.grad), so the fill pass over every gradient is skipped on the hot path.
        if (options.setToNone) p.grad = null;
        else p.deferZeroGrad();
      }
    }
  }

  /** Hyperparameters and state (copies), for checkpoints. */
  stateDict(): OptimizerStateDict {
    return {
      paramGroups: this.paramGroups.map((group, gi) => {
        const { params: _params, ...hyper } = group;
        return { ...(hyper as Record<string, number | boolean>), paramSizes: paramSizes(this.flat[gi]) };
      }),
      state: this.flat.map((f) => ({
        steps: [...f.steps],
        buffers: Object.fromEntries([...f.state].map(([k, v]) => [k, unpadded(f, v)])),
      })),
    };
  }

  /** Restores hyperparameters and state saved by stateDict(); group count and parameter sizes must match. */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.optName;
    if (!sd || !Array.isArray(sd.paramGroups) || !Array.isArray(sd.state) || sd.paramGroups.length !== this.paramGroups.length || sd.state.length !== this.flat.length) {
      throw new RangeError(`${name}.loadStateDict: expected ${this.paramGroups.length} parameter groups, got ${sd?.paramGroups?.length}`);
    }
    sd.paramGroups.forEach((saved, gi) => {
      const f = this.flat[gi];
      const sizes = paramSizes(f);
      const length = sizes.reduce((a, b) => a + b, 0);
      const savedSizes = saved.paramSizes;
      if (!Array.isArray(savedSizes) || savedSizes.length !== sizes.length || savedSizes.some((s, i) => s !== sizes[i])) {
        throw new RangeError(`${name}.loadStateDict: group ${gi} has parameter sizes [${sizes.join(',')}], the state dict [${String(savedSizes)}]`);
      }
      const st = sd.state[gi];
      for (const [k, buf] of Object.entries(st.buffers)) {
        if (!(buf instanceof Float32Array) || buf.length !== length) {
          throw new RangeError(`${name}.loadStateDict: state '${k}' of group ${gi} must be a Float32Array of length ${length}`);
        }
      }
      if (!Array.isArray(st.steps) || st.steps.length !== sizes.length) throw new RangeError(`${name}.loadStateDict: group ${gi} needs ${sizes.length} step counts`);
    });
    sd.paramGroups.forEach((saved, gi) => {
      const { paramSizes: _sizes, ...hyper } = saved;
      Object.assign(this.paramGroups[gi], hyper);
      const f = this.flat[gi];
      f.steps = [...sd.state[gi].steps];
      f.state = new Map(Object.entries(sd.state[gi].buffers).map(([k, v]) => [k, padded(f, v)]));
    });
  }
}

/** Shared validation helpers: the message names the optimizer, the field and the value. */
export function checkHyper(opt: string, name: string, value: unknown, ok: (v: number) => boolean, rule: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new RangeError(`${opt}: ${name} must be ${rule}, got ${String(value)}`);
  }
}

export function checkFlag(opt: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new TypeError(`${opt}: ${name} must be a boolean, got ${String(value)}`);
}

// Loads the native addon. Never throws: a failure is returned with its cause and the fix, so the
// caller (backend/index.ts) can fall back to the reference backend with one clear warning.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Backend, BackendInfo, F32, MatmulArgs } from './backend.js';

/**
 * B of a matmul packed once by `packMatmulB` for the micro-kernel of the ISA active at that moment
 * (named by `kernel`), for reuse by `matmulPacked` across calls (inference: the weights never change).
 * Opaque: the packed panels live in native memory owned by this object and are freed with it (or
 * earlier by `releasePackedB`).
 */
export interface PackedMatmulB {
  readonly k: number;
  readonly n: number;
  readonly transB: boolean;
  readonly kernel: string;
}

/** What the addon exports beyond the kernel interface (used by the runtime, tests and benchmarks). */
export interface NativeAddon extends Omit<Backend, 'name' | 'info'>, NativePlanApi {
  backendInfo(): BackendInfo & { availableIsas: string[]; availableCores: number; envId: number };
  /** Bytes from the start of buffer's memory to its first 64-byte boundary (0-63); TypeError on a non-ArrayBuffer. */
  alignOffset(buffer: ArrayBuffer): number;
  setIsa(isa: string): void;
  /** Packs b [K,N] (transB: [N,K]); errors as for matmul, named `packMatmulB`. */
  packMatmulB(args: { k: number; n: number; transB: boolean }, b: F32): PackedMatmulB;
  /**
   * matmul with a prepacked B: args.k and args.n must equal the handle's (RangeError otherwise), any
   * other object as packedB is a TypeError. Runs the handle's kernel even if the ISA changed since,
   * and gives the same bits as `matmul` does with that kernel for m > 8 (m <= 8 runs a different,
   * unpacked path in `matmul`, equal within float rounding).
   */
  matmulPacked(args: Omit<MatmulArgs, 'transB'>, a: F32, packedB: PackedMatmulB, bias: F32 | null, c: F32): void;
  /**
   * Frees the handle's panels now rather than when it is collected; matmulPacked with it then throws a
   * TypeError, a second release does nothing. Plans recorded with it keep their own share.
   */
  releasePackedB(packedB: PackedMatmulB): void;
}

/** A recorded sequence of kernel calls (planBegin/planEnd); opaque, owns its buffers until collected. */
export interface KernelPlan {
  /** Kernel calls recorded. */
  readonly calls: number;
  /** Random seeds its calls draw (one per recorded dropout): planReplay's `seeds`. */
  readonly seeds: number;
  /** Bytes of the distinct arrays its calls use (weights and gradients included). */
  readonly bytes: number;
}

/** A row gather planReplay runs on idle pool threads while the plan runs: target row i = source row indices[i]. */
export interface PlanGather {
  source: ArrayBufferView;
  indices: Int32Array;
  /** Same element type as source; indices.length rows. Must not overlap any array the plan uses. */
  target: ArrayBufferView;
}

/** Records and replays kernel plans (native/binding/plan.h): predictAsync's native path and fit's recorded step. */
export interface NativePlanApi {
  /** Arms a recorder on this thread: kernels run as usual and are also kept. */
  planBegin(): void;
  /** Disarms it; throws a RangeError naming a kernel that could not be kept. */
  planEnd(): KernelPlan;
  /**
   * On a libuv thread, for each of `batches` slices: copies x's slice into `input` (the buffer the
   * recording read), replays the plan, copies `output` into y's slice. One run per plan at a time.
   */
  planRun(plan: KernelPlan, input: F32, output: F32, x: F32, y: F32, batches: number): Promise<void>;
  /**
   * On this thread: copies sources[i] into targets[i] (buffers the plan uses, of the same byte length)
   * and `seeds` into the plan's seed cells (required, one per cell, when plan.seeds > 0), then replays
   * the plan synchronously (fit's recorded training step). `gathers` run meanwhile on the pool's idle
   * threads (fit's next batch, into its other recorded step's inputs); all are done when it returns.
   */
  planReplay(
    plan: KernelPlan, sources: readonly ArrayBufferView[], targets: readonly ArrayBufferView[], seeds?: Uint32Array,
    gathers?: readonly PlanGather[],
  ): void;
  /** Whether the plan's calls read or write exactly this array's bytes. */
  planUses(plan: KernelPlan, array: ArrayBufferView): boolean;
}

export type NativeLoadResult =
  | { ok: true; addon: NativeAddon; path: string }
  | { ok: false; cause: string; fix: string };

/** The package root: the nearest folder above this file whose package.json is named tensorforge. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'tensorforge') return dir;
      } catch {
        // unreadable manifest: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`tensorforge: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

export function loadNativeAddon(): NativeLoadResult {
  const override = process.env.TENSORFORGE_ADDON_PATH;
  try {
    if (override) {
      return { ok: true, addon: require(override) as NativeAddon, path: override };
    }
    const root = packageRoot();
    const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
    const path = nodeGypBuild.resolve(root);
    return { ok: true, addon: require(path) as NativeAddon, path };
  } catch (err) {
    const cause = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const fix = override
      ? `check TENSORFORGE_ADDON_PATH (${override})`
      : 'install a C++ toolchain (python3, make, g++ or clang) and run `npm rebuild tensorforge`, or use a platform with a prebuild';
    return { ok: false, cause, fix };
  }
}

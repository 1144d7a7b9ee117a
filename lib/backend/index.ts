// Choosing the backend: native when the addon loads, otherwise the reference backend with one warning.
//
//   TENSORFORGE_BACKEND=native     the addon must load, or the first kernel call throws with the cause
//   TENSORFORGE_BACKEND=reference  always use the TypeScript reference backend
//   setBackend('native' | 'reference') switches at run time.

import type { Backend, BackendInfo } from './backend.js';
import { loadNativeAddon, type NativeAddon, type NativeLoadResult } from './native.js';
import { referenceBackend } from './reference/index.js';

export type BackendName = 'native' | 'reference';

let nativeLoad: NativeLoadResult | undefined;
let nativeBackend: Backend | undefined;
let current: Backend | undefined;
let warned = false;

function loadNative(): NativeLoadResult {
  nativeLoad ??= loadNativeAddon();
  return nativeLoad;
}

function wrapAddon(addon: NativeAddon): Backend {
  return {
    ...addon,
    name: 'native',
    info: () => {
      const i = addon.backendInfo();
      return { name: 'native', isa: i.isa, detectedIsa: i.detectedIsa, numThreads: i.numThreads };
    },
  };
}

/** The native backend, or an Error explaining why it is unavailable and how to fix it. */
export function nativeBackendOrError(): Backend | Error {
  if (nativeBackend) return nativeBackend;
  const load = loadNative();
  if (!load.ok) {
    return new Error(`tensorforge: the native addon could not be loaded (${load.cause}); fix: ${load.fix}`);
  }
  nativeBackend = wrapAddon(load.addon);
  return nativeBackend;
}

/** The raw addon (for tests and benchmarks that need setIsa or extra info); undefined if it cannot load. */
export function nativeAddon(): NativeAddon | undefined {
  const load = loadNative();
  return load.ok ? load.addon : undefined;
}

function chooseInitial(): Backend {
  const requested = process.env.TENSORFORGE_BACKEND;
  if (requested === 'reference') return referenceBackend;
  const native = nativeBackendOrError();
  if (requested === 'native') {
    if (native instanceof Error) throw native;
    return native;
  }
  if (requested !== undefined && requested !== '') {
    throw new Error(`tensorforge: TENSORFORGE_BACKEND must be 'native' or 'reference', got '${requested}'`);
  }
  if (native instanceof Error) {
    if (!warned) {
      warned = true;
      process.emitWarning(`${native.message}. Falling back to the (much slower) reference backend.`, {
        code: 'TENSORFORGE_NO_NATIVE',
      });
    }
    return referenceBackend;
  }
  return native;
}

/** The backend every op runs on. */
export function getBackend(): Backend {
  current ??= chooseInitial();
  return current;
}

export function setBackend(name: BackendName): void {
  if (name === 'reference') {
    current = referenceBackend;
  } else if (name === 'native') {
    const native = nativeBackendOrError();
    if (native instanceof Error) throw native;
    current = native;
  } else {
    throw new RangeError(`setBackend: expected 'native' or 'reference', got ${JSON.stringify(name)}`);
  }
}

/** Which backend runs, its instruction set and thread count. */
export function backendInfo(): BackendInfo {
  return getBackend().info();
}

/** Threads used by native kernels (results do not depend on it). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: n must be an integer >= 1, got ${n}`);
  const native = nativeBackendOrError();
  if (!(native instanceof Error)) native.setNumThreads(n);
}

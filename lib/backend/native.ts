// Loads the native addon. Never throws: a failure is returned with its cause and the fix, so the
// caller (backend/index.ts) can fall back to the reference backend with one clear warning.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Backend, BackendInfo } from './backend.js';

/** What the addon exports beyond the kernel interface (used by the runtime and tests). */
export interface NativeAddon extends Omit<Backend, 'name' | 'info'> {
  backendInfo(): BackendInfo & { availableIsas: string[]; availableCores: number; envId: number };
  setIsa(isa: string): void;
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

// What the addon reads when it loads (TENSORFORGE_ISA, TENSORFORGE_NUM_THREADS) can only be tested in
// a fresh process, so these tests start `node` with the variable set and read backendInfo() back.
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { loadNativeAddon } from '../../lib/backend/native.js';

const load = loadNativeAddon();
if (!load.ok) throw new Error(`native addon did not load: ${load.cause}`);
const addonPath = load.path;
const available = load.addon.backendInfo().availableIsas;

function infoWith(env: Record<string, string>): { isa: string; detectedIsa: string; numThreads: number } {
  const out = execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addonPath)}).backendInfo()))`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('addon environment variables', () => {
  test.each(available)('TENSORFORGE_ISA=%s selects that level', (isa) => {
    const info = infoWith({ TENSORFORGE_ISA: isa });
    expect(info.isa).toBe(isa);
    expect(info.detectedIsa).toBe(load.addon.backendInfo().detectedIsa);
  });

  test('an unknown TENSORFORGE_ISA is ignored: the detected level runs', () => {
    const info = infoWith({ TENSORFORGE_ISA: 'sse9' });
    expect(info.isa).toBe(info.detectedIsa);
  });

  test('TENSORFORGE_NUM_THREADS sets the pool size', () => {
    expect(infoWith({ TENSORFORGE_NUM_THREADS: '1' }).numThreads).toBe(1);
    expect(infoWith({ TENSORFORGE_NUM_THREADS: '3' }).numThreads).toBe(3);
  });

  test('the default pool size is the number of available cores', () => {
    const env = { ...process.env };
    delete env.TENSORFORGE_NUM_THREADS;
    const out = execFileSync(process.execPath, ['-e', `const i=require(${JSON.stringify(addonPath)}).backendInfo(); console.log(JSON.stringify([i.numThreads, i.availableCores]))`], { env, encoding: 'utf8' });
    const [threads, cores] = JSON.parse(out);
    expect(threads).toBe(cores);
  });

  test('setIsa refuses unknown or unavailable levels with a named error', () => {
    const addon = load.addon;
    expect(() => addon.setIsa('avx9')).toThrow(/^setIsa: unknown ISA 'avx9'/);
    if (!available.includes('neon')) expect(() => addon.setIsa('neon')).toThrow(/^setIsa: ISA 'neon' cannot run/);
    expect(addon.backendInfo().isa).toBe(load.addon.backendInfo().isa);
  });
});

// Choosing a backend: native by default, a single warning and the reference backend when the addon
// cannot load, TENSORFORGE_BACKEND to force either, setBackend at run time.
import { afterEach, describe, expect, test, vi } from 'vitest';

type BackendModule = typeof import('../../lib/backend/index.js');

const savedEnv = { ...process.env };

async function freshBackendModule(env: Record<string, string | undefined>): Promise<BackendModule> {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  vi.resetModules();
  return import('../../lib/backend/index.js');
}

afterEach(() => {
  process.env = { ...savedEnv };
  vi.restoreAllMocks();
});

describe('backend selection', () => {
  test('default: the native backend with an ISA and a thread count', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: undefined, TENSORFORGE_ADDON_PATH: undefined });
    const info = m.backendInfo();
    expect(info.name).toBe('native');
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(info.isa);
    expect(info.numThreads).toBeGreaterThanOrEqual(1);
  });

  test('addon missing: one warning naming the cause and the fix, then the reference backend', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: undefined, TENSORFORGE_ADDON_PATH: '/nonexistent/tensorforge.node' });
    expect(m.getBackend().name).toBe('reference');
    expect(m.getBackend().name).toBe('reference');
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0][0]);
    expect(message).toMatch(/native addon could not be loaded/);
    expect(message).toMatch(/\/nonexistent\/tensorforge\.node/);
    expect(message).toMatch(/fix:/);
  });

  test('TENSORFORGE_BACKEND=native with no addon: an error, not a silent fallback', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: 'native', TENSORFORGE_ADDON_PATH: '/nonexistent/tensorforge.node' });
    expect(() => m.getBackend()).toThrow(/native addon could not be loaded/);
  });

  test('TENSORFORGE_BACKEND=reference forces the reference backend', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: 'reference', TENSORFORGE_ADDON_PATH: undefined });
    expect(m.backendInfo()).toEqual({ name: 'reference', isa: 'typescript', detectedIsa: 'typescript', numThreads: 1 });
  });

  test('TENSORFORGE_BACKEND with an unknown value is an error naming it', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: 'cuda' });
    expect(() => m.getBackend()).toThrow(/TENSORFORGE_BACKEND must be 'native' or 'reference', got 'cuda'/);
  });

  test('setBackend switches at run time and rejects unknown names', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: undefined, TENSORFORGE_ADDON_PATH: undefined });
    m.setBackend('reference');
    expect(m.getBackend().name).toBe('reference');
    m.setBackend('native');
    expect(m.getBackend().name).toBe('native');
    expect(() => m.setBackend('gpu' as never)).toThrow(RangeError);
    expect(() => m.setBackend('gpu' as never)).toThrow(/^setBackend: expected 'native' or 'reference', got "gpu"/);
  });

  test('setNumThreads validates and is reported by backendInfo', async () => {
    const m = await freshBackendModule({ TENSORFORGE_BACKEND: undefined, TENSORFORGE_ADDON_PATH: undefined });
    const before = m.backendInfo().numThreads;
    m.setNumThreads(1);
    expect(m.backendInfo().numThreads).toBe(1);
    m.setNumThreads(before);
    for (const bad of [0, -2, 1.5, NaN]) expect(() => m.setNumThreads(bad)).toThrow(/^setNumThreads: n must be an integer >= 1/);
  });
});

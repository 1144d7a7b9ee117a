// Crash safety of io.save: a save that fails part way (here: the Nth atomic write throws, as a full
// disk would) leaves the previous model loadable and unchanged, and leaves no temp or orphan files.
import { describe, expect, test, vi } from 'vitest';
import * as io from '../../lib/io/index.js';
import * as nn from '../../lib/nn/index.js';
import * as optim from '../../lib/optim/index.js';
import { noGrad } from '../../lib/autograd/graph.js';
import { bits, listDir, randomInput, randomize, tempDir } from './helpers.js';

// vi.mock is hoisted above the imports, so io's own import of atomic.js gets this version.
const failure = vi.hoisted(() => ({ atCall: 0, calls: 0 }));

vi.mock('../../lib/io/atomic.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lib/io/atomic.js')>();
  return {
    writeFileAtomic: (path: string, data: Uint8Array | string) => {
      failure.calls++;
      if (failure.calls === failure.atCall) throw new Error(`ENOSPC: no space left on device (simulated) writing ${path}`);
      real.writeFileAtomic(path, data);
    },
  };
});

function failOnWrite(n: number): void {
  failure.calls = 0;
  failure.atCall = n;
}

describe('io.save is atomic', () => {
  test.each([
    ['the weights file (1st write)', 1],
    ['the optimizer file (2nd write)', 2],
    ['the manifest (3rd write)', 3],
  ])('a failure writing %s leaves the old model intact and no stray files', (_what, n) => {
    const dir = tempDir();
    const old = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    randomize(old, 1);
    failOnWrite(0);
    io.save(old, dir);
    const before = listDir(dir);

    const next = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
    randomize(next, 2);
    failOnWrite(n);
    expect(() => io.save(next, dir, { optimizer: new optim.SGD(next.parameters()) })).toThrow(/ENOSPC/);
    expect(listDir(dir)).toEqual(before);

    failOnWrite(0);
    const back = io.load(dir).model;
    expect(back.toString()).toBe(old.toString());
    const x = randomInput([2, 3], 3);
    expect(bits(noGrad(() => back.forward(x)))).toEqual(bits(noGrad(() => old.forward(x))));
  });

  test('an unsavable model fails before any file is touched', () => {
    const dir = tempDir();
    failOnWrite(0);
    io.save(new nn.Linear(2, 2), dir);
    const before = listDir(dir);
    class Custom extends nn.Module {
      forward(x: never) {
        return x;
      }
    }
    failure.calls = 0;
    expect(() => io.save(new nn.Sequential(new Custom()), dir)).toThrow(/not a registered module class/);
    expect(failure.calls).toBe(0);
    expect(listDir(dir)).toEqual(before);
  });

  test('successful saves leave no temp files behind', () => {
    const dir = tempDir();
    failOnWrite(0);
    const model = new nn.Linear(2, 3);
    const opt = new optim.Adam(model.parameters());
    for (let i = 0; i < 3; i++) io.save(model, dir, { optimizer: opt });
    expect(listDir(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(listDir(dir)).toHaveLength(3);
  });
});

// Module mechanics: parameter discovery and naming, train/eval, freeze, state dicts, toString,
// PyTorch default initialization.
import { describe, expect, test } from 'vitest';
import * as nn from '../../lib/nn/index.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';

class TwoLayer extends nn.Module {
  fc1 = new nn.Linear(3, 4);
  act = new nn.ReLU();
  fc2 = new nn.Linear(4, 2, { bias: false });
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

describe('Module', () => {
  test('parameters are found from fields, named by path, in declaration order', () => {
    const m = new TwoLayer();
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['fc1.weight', [3, 4]], ['fc1.bias', [4]], ['fc2.weight', [4, 2]],
    ]);
    expect(m.numParameters()).toBe(12 + 4 + 8);
  });

  test('Sequential names children by index; nested containers give dotted paths', () => {
    const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Residual(new nn.Sequential(new nn.Linear(2, 2))), new nn.BatchNorm1d(2));
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      '0.weight', '0.bias', '1.block.0.weight', '1.block.0.bias', '2.weight', '2.bias',
    ]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['2.runningMean', '2.runningVar']);
  });

  test('a parameter shared by two modules is listed once', () => {
    const shared = new nn.Linear(2, 2);
    const m = new nn.Sequential(shared, new nn.ReLU(), shared);
    expect(m.parameters().length).toBe(2);
  });

  test('train()/eval() reach every submodule', () => {
    const m = new nn.Sequential(new nn.Dropout(0.5), new nn.Sequential(new nn.BatchNorm1d(3)));
    m.eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, x]) => x.training)).toBe(true);
  });

  test('freeze/unfreeze toggle requiresGrad of every parameter in the subtree', () => {
    const m = new TwoLayer();
    m.fc1.freeze();
    expect(m.fc1.weight.requiresGrad).toBe(false);
    expect(m.fc2.weight.requiresGrad).toBe(true);
    expect(m.numParameters(true)).toBe(8);
    m.unfreeze();
    expect(m.trainableParameters().length).toBe(3);
  });

  test('stateDict copies values; loadStateDict restores them in place', () => {
    const a = new TwoLayer();
    const b = new TwoLayer();
    const dataBefore = b.fc1.weight.data;
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    b.loadStateDict(sd);
    expect(Array.from(b.fc1.weight.data)).toEqual(Array.from(a.fc1.weight.data));
    expect(b.fc1.weight.data).toBe(dataBefore); // in place
    sd['fc1.weight'].data[0] = 123; // a copy: the model is unaffected
    expect(a.fc1.weight.data[0]).not.toBe(123);
  });

  test('loadStateDict reports missing, unexpected and mis-shaped entries, and copies nothing', () => {
    const a = new TwoLayer();
    const before = Array.from(a.fc1.bias!.data);
    const sd = a.stateDict();
    delete sd['fc2.weight'];
    sd['extra'] = new Tensor(new Float32Array(1), [1]);
    sd['fc1.bias'] = new Tensor(new Float32Array(5).fill(9), [5]);
    let message = '';
    try { a.loadStateDict(sd); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/^loadStateDict: /);
    expect(message).toMatch(/missing: fc2.weight/);
    expect(message).toMatch(/unexpected: extra/);
    expect(message).toMatch(/fc1.bias: shape \[5\] in the state dict, \[4\] in the model/);
    expect(Array.from(a.fc1.bias!.data)).toEqual(before);
    const partial = new TwoLayer().stateDict();
    delete partial['fc2.weight'];
    expect(() => a.loadStateDict(partial, { strict: false })).not.toThrow();
  });

  test('batch-norm running stats are buffers in the state dict', () => {
    const bn = new nn.BatchNorm2d(3);
    const sd = bn.stateDict();
    expect(Object.keys(sd).sort()).toEqual(['bias', 'runningMean', 'runningVar', 'weight']);
    expect(Array.from(sd.runningVar.data)).toEqual([1, 1, 1]);
  });

  test('toString shows the architecture, non-default arguments and parameter counts', () => {
    const m = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 'same' }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(8, 2, { bias: false }), new nn.Dropout(0.25),
    );
    m.at(0).freeze();
    const s = m.toString();
    expect(s).toContain('Sequential(');
    expect(s).toContain('(0): Conv2d(3 -> 8, kernelSize=[3,3], padding="same")  # 224 params (frozen)');
    expect(s).toContain('(1): ReLU()');
    expect(s).toContain('(2): MaxPool2d(kernelSize=2)');
    expect(s).toContain('(4): Linear(8 -> 2, bias=false)  # 16 params');
    expect(s).toContain('(5): Dropout(p=0.25)');
    expect(s).toContain('parameters: 240 (trainable 16, frozen 224)');
  });
});

describe('initialization', () => {
  test('Linear default: weight and bias in U(±1/sqrt(in)), reproducible with manualSeed', () => {
    manualSeed(3);
    const a = new nn.Linear(16, 32);
    manualSeed(3);
    const b = new nn.Linear(16, 32);
    expect(Array.from(a.weight.data)).toEqual(Array.from(b.weight.data));
    const bound = 1 / Math.sqrt(16);
    const w = Array.from(a.weight.data);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    // 512 draws from U(±0.25): the max is within 2% of the bound with overwhelming probability
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.98 * bound);
    expect(Math.max(...Array.from(a.bias!.data, Math.abs))).toBeLessThanOrEqual(bound);
  });

  test('Conv2d default uses fanIn = kh*kw*in/groups', () => {
    manualSeed(4);
    const c = new nn.Conv2d(4, 6, 3, { groups: 2 });
    expect(c.weight.shape).toEqual([3, 3, 2, 6]);
    const bound = 1 / Math.sqrt(3 * 3 * 2);
    const w = Array.from(c.weight.data, Math.abs);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.max(...w)).toBeGreaterThan(0.95 * bound);
  });

  test('layers accept an initializer option; BatchNorm starts at weight 1, bias 0', () => {
    const l = new nn.Linear(2, 3, { weightInit: (t) => { t.data.fill(0.5); return t; } });
    expect(Array.from(l.weight.data)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const bn = new nn.BatchNorm1d(2);
    expect(Array.from(bn.weight!.data)).toEqual([1, 1]);
    expect(Array.from(bn.bias!.data)).toEqual([0, 0]);
  });

  test('constructor arguments are validated with the layer name', () => {
    expect(() => new nn.Linear(0, 2)).toThrow(/Linear: inFeatures must be an integer >= 1, got 0/);
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: inChannels=3 and outChannels=4 must be divisible by groups=2/);
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: p must be in \[0, 1\], got 1.5/);
  });
});

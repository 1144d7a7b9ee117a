// io.save / io.load round trips: every built-in module type, nested containers, batch-norm running
// statistics, train/eval and frozen flags, optimizer resume, user-registered modules, state-dict files.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as io from '../../lib/io/index.js';
import * as nn from '../../lib/nn/index.js';
import * as optim from '../../lib/optim/index.js';
import { mse } from '../../lib/losses/index.js';
import { noGrad } from '../../lib/autograd/graph.js';
import { manualSeed } from '../../lib/random.js';
import { Tensor } from '../../lib/tensor.js';
import { bits, listDir, randomInput, randomize, readManifest, tempDir, writeManifest } from './helpers.js';

interface Case {
  name: string;
  make: () => nn.Module;
  input: number[];
}

// One case per built-in module class (and the containers nested), each with an input it accepts.
const CASES: Case[] = [
  { name: 'Linear', make: () => new nn.Linear(5, 3), input: [4, 5] },
  { name: 'Linear bias=false', make: () => new nn.Linear(5, 3, { bias: false }), input: [4, 5] },
  { name: 'Conv2d k=3 pad=same', make: () => new nn.Conv2d(3, 4, 3, { padding: 'same' }), input: [2, 6, 5, 3] },
  {
    name: 'Conv2d k=[3,2] s=2 pad=[1,0,1,1] dil=[1,2] groups=2 bias=false',
    make: () => new nn.Conv2d(4, 6, [3, 2], { stride: 2, padding: [1, 0, 1, 1], dilation: [1, 2], groups: 2, bias: false }),
    input: [2, 7, 8, 4],
  },
  { name: 'MaxPool2d k=2', make: () => new nn.MaxPool2d(2), input: [2, 6, 6, 3] },
  { name: 'MaxPool2d k=3 s=2 pad=1', make: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }), input: [2, 7, 7, 3] },
  { name: 'AvgPool2d k=[2,3] s=1 pad=1 countIncludePad=false', make: () => new nn.AvgPool2d([2, 3], { stride: 1, padding: 1, countIncludePad: false }), input: [2, 5, 6, 3] },
  { name: 'GlobalAvgPool2d', make: () => new nn.GlobalAvgPool2d(), input: [2, 4, 4, 3] },
  { name: 'GlobalMaxPool2d', make: () => new nn.GlobalMaxPool2d(), input: [2, 4, 4, 3] },
  { name: 'BatchNorm1d', make: () => new nn.BatchNorm1d(5, { momentum: 0.3, eps: 1e-3 }), input: [6, 5] },
  { name: 'BatchNorm1d affine=false', make: () => new nn.BatchNorm1d(5, { affine: false }), input: [6, 5] },
  { name: 'BatchNorm1d trackRunningStats=false', make: () => new nn.BatchNorm1d(5, { trackRunningStats: false }), input: [6, 5] },
  { name: 'BatchNorm2d', make: () => new nn.BatchNorm2d(3), input: [2, 4, 4, 3] },
  { name: 'LayerNorm [4,5]', make: () => new nn.LayerNorm([4, 5], { eps: 1e-4 }), input: [3, 4, 5] },
  { name: 'LayerNorm elementwiseAffine=false', make: () => new nn.LayerNorm(5, { elementwiseAffine: false }), input: [3, 5] },
  { name: 'ReLU', make: () => new nn.ReLU(), input: [3, 5] },
  { name: 'LeakyReLU 0.2', make: () => new nn.LeakyReLU(0.2), input: [3, 5] },
  { name: 'ELU 0.7', make: () => new nn.ELU(0.7), input: [3, 5] },
  { name: 'Sigmoid', make: () => new nn.Sigmoid(), input: [3, 5] },
  { name: 'Tanh', make: () => new nn.Tanh(), input: [3, 5] },
  { name: 'Softplus', make: () => new nn.Softplus(), input: [3, 5] },
  { name: 'Softmax axis=0', make: () => new nn.Softmax(0), input: [3, 5] },
  { name: 'LogSoftmax', make: () => new nn.LogSoftmax(), input: [3, 5] },
  { name: 'Maxout 3', make: () => new nn.Maxout(3), input: [3, 6] },
  { name: 'Identity', make: () => new nn.Identity(), input: [3, 5] },
  { name: 'Flatten 1..2', make: () => new nn.Flatten(1, 2), input: [2, 3, 4, 5] },
  { name: 'Dropout 0.3', make: () => new nn.Dropout(0.3), input: [3, 5] },
  {
    name: 'Sequential MLP with fused activations',
    make: () => new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 8), new nn.Tanh(), new nn.Linear(8, 2)),
    input: [5, 6],
  },
  {
    name: 'Residual with and without shortcut, nested in Sequential',
    make: () => new nn.Sequential(
      new nn.Residual(new nn.Sequential(new nn.Linear(4, 4), new nn.ELU())),
      new nn.Residual(new nn.Sequential(new nn.Linear(4, 6), new nn.LeakyReLU()), new nn.Linear(4, 6)),
      new nn.Sequential(new nn.Sequential(new nn.LayerNorm(6), new nn.Linear(6, 3))),
    ),
    input: [5, 4],
  },
  {
    name: 'LeNet-style CNN (conv, batch norm, pools, flatten, dropout)',
    make: () => new nn.Sequential(
      new nn.Conv2d(1, 4, 5, { padding: 2 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.AvgPool2d(2),
      new nn.Flatten(), new nn.Linear(24, 10), new nn.Dropout(0.5), new nn.Linear(10, 3), new nn.LogSoftmax(),
    ),
    input: [2, 12, 12, 1],
  },
];

/** A fresh directory holding `model` saved without optimizer or scheduler. */
function tempDirWith(model: nn.Module): string {
  const dir = tempDir();
  io.save(model, dir);
  return dir;
}

function expectSameState(a: nn.Module, b: nn.Module): void {
  const sa = a.stateDict();
  const sb = b.stateDict();
  expect(Object.keys(sb)).toEqual(Object.keys(sa));
  for (const k of Object.keys(sa)) {
    expect(sb[k].shape, k).toEqual(sa[k].shape);
    expect(bits(sb[k]), k).toEqual(bits(sa[k]));
  }
}

describe('io.save / io.load round trip', () => {
  test.each(CASES)('$name: weights, buffers and outputs are bit-exact', ({ make, input }) => {
    manualSeed(7);
    const model = make();
    randomize(model, 11);
    const x = randomInput(input, 3);
    // A training-mode forward updates batch-norm running statistics, so they differ from their init.
    if (model.namedBuffers().length > 0) noGrad(() => model.forward(x));
    model.eval();
    const dir = tempDir();
    io.save(model, dir);
    const { model: back, optimizerState } = io.load(dir);
    expect(optimizerState).toBeUndefined();
    expect(back.constructor).toBe(model.constructor);
    expect(back.toString()).toBe(model.toString());
    expectSameState(model, back);
    expect(back.training).toBe(false);
    const y0 = noGrad(() => model.forward(x));
    const y1 = noGrad(() => back.forward(x));
    expect(y1.shape).toEqual(y0.shape);
    expect(bits(y1)).toEqual(bits(y0));
  });

  test('the directory holds model.json and one content-named weights file; names are the model names', () => {
    const model = CASES[CASES.length - 1].make();
    const dir = tempDir();
    io.save(model, dir);
    const files = listDir(dir);
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights-[0-9a-f]{16}\.safetensors$/);
    const m = readManifest(dir);
    expect(m.format).toBe('tensorforge-model');
    expect(m.formatVersion).toBe(1);
    expect(m.architecture.class).toBe('Sequential');
    expect(m.architecture.config.layers[0]).toEqual({
      class: 'Conv2d', config: { inChannels: 1, outChannels: 4, kernelSize: [5, 5], bias: true, padding: 2 },
    });
    const st = io.loadStateDict(join(dir, files[1]));
    expect(Object.keys(st)).toEqual([...model.namedParameters(), ...model.namedBuffers()].map(([n]) => n));
    expect(Object.keys(st)).toContain('1.runningVar');
  });

  test('batch-norm running statistics after training steps survive bit for bit and drive eval outputs', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(4, 6), new nn.BatchNorm1d(6, { momentum: 0.25 }), new nn.ReLU(), new nn.Linear(6, 2));
    for (let i = 0; i < 5; i++) noGrad(() => model.forward(randomInput([8, 4], 100 + i)));
    const bn = model.at(1) as nn.BatchNorm1d;
    expect(Array.from(bn.runningMean!.data).some((v) => v !== 0)).toBe(true);
    const dir = tempDir();
    io.save(model, dir);
    const back = io.load(dir).model as nn.Sequential;
    const bn2 = back.at(1) as nn.BatchNorm1d;
    expect(bits(bn2.runningMean!)).toEqual(bits(bn.runningMean!));
    expect(bits(bn2.runningVar!)).toEqual(bits(bn.runningVar!));
    expect(bn2.momentum).toBe(0.25);
    expect(back.training).toBe(true);
    model.eval();
    back.eval();
    const x = randomInput([3, 4], 9);
    expect(bits(noGrad(() => back.forward(x)))).toEqual(bits(noGrad(() => model.forward(x))));
  });

  test('train/eval flags per module and frozen parameters are restored', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Dropout(0.5), new nn.Sequential(new nn.BatchNorm1d(4), new nn.Linear(4, 2)));
    model.eval();
    (model.at(2) as nn.Sequential).at(0).train();
    model.at(0).freeze();
    const dir = tempDir();
    io.save(model, dir);
    const back = io.load(dir).model;
    expect(back.namedModules().map(([n, m]) => [n, m.training])).toEqual(model.namedModules().map(([n, m]) => [n, m.training]));
    expect(back.namedParameters().map(([n, p]) => [n, p.requiresGrad])).toEqual([
      ['0.weight', false], ['0.bias', false], ['2.0.weight', true], ['2.0.bias', true], ['2.1.weight', true], ['2.1.bias', true],
    ]);
  });

  test('saving again replaces the model and removes the old weights file', () => {
    const dir = tempDir();
    const a = new nn.Linear(3, 2);
    io.save(a, dir);
    const b = new nn.Sequential(new nn.Linear(3, 5), new nn.ReLU());
    io.save(b, dir);
    expect(listDir(dir)).toHaveLength(2);
    expect(io.load(dir).model.toString()).toBe(b.toString());
  });

  test('a path that is a file is refused; a missing directory is created', () => {
    const dir = tempDir();
    const nested = join(dir, 'a', 'b');
    io.save(new nn.ReLU(), nested);
    expect(listDir(nested)[0]).toBe('model.json');
    expect(() => io.save(new nn.ReLU(), join(nested, 'model.json'))).toThrow(/exists and is not a directory/);
  });

  test('tied (shared) parameters are refused with the two names', () => {
    const shared = new nn.Linear(2, 2);
    expect(() => io.save(new nn.Sequential(shared, new nn.ReLU(), shared), tempDir())).toThrow(
      /io.save: parameter '2.weight' is the same tensor as '0.weight'/,
    );
  });
});

describe('optimizer state', () => {
  const data = { x: randomInput([16, 5], 1), y: randomInput([16, 2], 2) };

  function makeModel(): nn.Sequential {
    manualSeed(42);
    return new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.BatchNorm1d(8), new nn.Linear(8, 2));
  }

  function train(model: nn.Module, opt: optim.Optimizer<{ lr: number }>, steps: number): void {
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      mse(model.forward(data.x), data.y).backward();
      opt.step();
    }
  }

  const optimizers: [string, (m: nn.Sequential) => optim.Optimizer<{ lr: number }>][] = [
    ['Adam', (m) => new optim.Adam(m.parameters(), { lr: 0.01 })],
    ['AdamW amsgrad', (m) => new optim.AdamW(m.parameters(), { lr: 0.01, amsgrad: true })],
    [
      'SGD nesterov, two param groups',
      (m) => new optim.SGD([
        { params: m.at(0).parameters(), lr: 0.05 },
        { params: [...m.at(2).parameters(), ...m.at(3).parameters()] },
      ], { lr: 0.1, momentum: 0.9, nesterov: true }),
    ],
    ['RMSprop centered', (m) => new optim.RMSprop(m.parameters(), { lr: 0.01, centered: true, momentum: 0.5 })],
    ['Adagrad', (m) => new optim.Adagrad(m.parameters(), { lr: 0.05, initialAccumulatorValue: 0.1 })],
  ];

  test.each(optimizers)('%s: 3 steps, save, load, 3 more steps == 6 uninterrupted steps (bit-exact)', (_name, makeOpt) => {
    const straight = makeModel();
    train(straight, makeOpt(straight), 6);

    const first = makeModel();
    const opt1 = makeOpt(first);
    train(first, opt1, 3);
    const dir = tempDir();
    io.save(first, dir, { optimizer: opt1 });
    expect(listDir(dir).filter((f) => f.startsWith('optimizer-'))).toHaveLength(1);

    const { model, optimizerState } = io.load(dir);
    expect(optimizerState).toBeDefined();
    const resumed = model as nn.Sequential;
    const opt2 = makeOpt(resumed);
    for (const g of opt2.paramGroups) g.lr = 123; // the saved hyperparameters must replace these
    io.restoreOptimizer(opt2, resumed, optimizerState!);
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt1.paramGroups.map((g) => g.lr));
    train(resumed, opt2, 3);
    expectSameState(straight, resumed);
  });

  test('a scheduler saved with the model resumes its schedule (StepLR and ReduceLROnPlateau)', () => {
    const first = makeModel();
    const opt1 = new optim.SGD(first.parameters(), { lr: 0.1 });
    const sched1 = new optim.StepLR(opt1, 2, 0.5);
    for (let e = 0; e < 3; e++) { train(first, opt1, 1); sched1.step(); }
    const dir = tempDir();
    io.save(first, dir, { optimizer: opt1, scheduler: sched1 });
    expect(readManifest(dir).scheduler).toEqual({ type: 'StepLR', lastEpoch: 3, baseLrs: [0.1] });

    const { model, optimizerState, schedulerState } = io.load(dir);
    const opt2 = new optim.SGD(model.parameters(), { lr: 0.1 });
    const sched2 = new optim.StepLR(opt2, 2, 0.5);
    io.restoreOptimizer(opt2, model, optimizerState!);
    sched2.loadStateDict(schedulerState!);
    expect(sched2.lastEpoch).toBe(3);
    expect(opt2.paramGroups[0].lr).toBe(0.05);
    sched1.step();
    sched2.step();
    expect(opt2.paramGroups[0].lr).toBe(opt1.paramGroups[0].lr);

    const plateau = new optim.ReduceLROnPlateau(opt1, { patience: 3 });
    plateau.step(0.5);
    plateau.step(0.7);
    io.save(first, dir, { scheduler: plateau });
    const back = io.load(dir).schedulerState!;
    expect(back).toEqual({ type: 'ReduceLROnPlateau', lastEpoch: 2, best: 0.5, numBadEpochs: 1, cooldownCounter: 0 });
    expect(io.load(tempDirWith(first)).schedulerState).toBeUndefined();
  });

  test('a malformed saved scheduler state is refused when loading, naming the field', () => {
    const model = makeModel();
    const dir = tempDir();
    io.save(model, dir, { scheduler: new optim.ExponentialLR(new optim.SGD(model.parameters()), 0.9) });
    const manifest = readManifest(dir);
    manifest.scheduler = { type: 'ExponentialLR', lastEpoch: 1.5, baseLrs: [0.01] };
    writeManifest(dir, manifest);
    expect(() => io.load(dir)).toThrow(/scheduler: lastEpoch must be an integer >= 0, got 1.5/);
    expect(() => io.save(model, dir, { scheduler: {} as never })).toThrow(/io.save: scheduler must be an optim.\* learning-rate scheduler/);
  });

  test('restoreOptimizer refuses another optimizer class or other parameters', () => {
    const model = makeModel();
    const opt = new optim.Adam(model.parameters());
    train(model, opt, 1);
    const dir = tempDir();
    io.save(model, dir, { optimizer: opt });
    const { model: back, optimizerState } = io.load(dir);
    expect(() => io.restoreOptimizer(new optim.SGD(back.parameters()), back, optimizerState!)).toThrow(
      /io.restoreOptimizer: the state was saved from a Adam, not a SGD/,
    );
    expect(() => io.restoreOptimizer(new optim.Adam(back.parameters().slice(1)), back, optimizerState!)).toThrow(
      /io.restoreOptimizer: group 0 holds \[0.bias, .*the saved state \[0.weight, 0.bias/,
    );
    expect(() => io.restoreOptimizer(new optim.Adam(model.parameters()), back, optimizerState!)).toThrow(/not a parameter of the model/);
  });

  test('an optimizer over tensors that are not model parameters cannot be saved', () => {
    const model = makeModel();
    const stray = new nn.Parameter([3]);
    expect(() => io.save(model, tempDir(), { optimizer: new optim.SGD([...model.parameters(), stray]) })).toThrow(
      /optimizer parameter group 0 item 6 is not a parameter of the model/,
    );
  });
});

class Gated extends nn.Module {
  constructor(readonly features: number, readonly body: nn.Module) {
    super();
    this.gate = new nn.Linear(features, features);
  }
  gate: nn.Linear;
  forward(x: Tensor): Tensor {
    return this.body.forward(x).mul(this.gate.forward(x).sigmoid());
  }
}

describe('user modules', () => {
  io.registerModule('test.Gated', {
    type: Gated,
    toConfig: (m, ctx) => ({ features: m.features, body: ctx.node(m.body) }),
    fromConfig: (c, ctx) => new Gated(c.int('features', 1), ctx.module(c, 'body')),
  });

  test('a registered class with a child module round-trips inside built-in containers', () => {
    const model = new nn.Sequential(new Gated(4, new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU())), new nn.Linear(4, 1));
    randomize(model, 5);
    const dir = tempDir();
    io.save(model, dir);
    const back = io.load(dir).model;
    expect((back as nn.Sequential).at(0)).toBeInstanceOf(Gated);
    expectSameState(model, back);
    const x = randomInput([3, 4], 6);
    expect(bits(noGrad(() => back.forward(x)))).toEqual(bits(noGrad(() => model.forward(x))));
  });

  test('an unregistered class (even a subclass of a built-in) is refused on save with a fix', () => {
    class MyLinear extends nn.Linear {}
    expect(() => io.save(new nn.Sequential(new nn.ReLU(), new MyLinear(2, 2)), tempDir())).toThrow(
      /io.save: model\/1 is a MyLinear, which is not a registered module class; call io.registerModule\('MyLinear'/,
    );
  });

  test('registerModule refuses built-in names, bad names, non-modules and a second class under one name', () => {
    const spec = { type: Gated, toConfig: () => ({}), fromConfig: () => new Gated(1, new nn.ReLU()) };
    expect(() => io.registerModule('Linear', spec)).toThrow(/'Linear' is a built-in module name/);
    expect(() => io.registerModule('__proto__ x', spec)).toThrow(TypeError);
    expect(() => io.registerModule('Thing', { ...spec, type: Object as never })).toThrow(/needs \{ type: a Module subclass/);
    class Other extends Gated {}
    expect(() => io.registerModule('test.Gated', { ...spec, type: Other })).toThrow(/already registered for another class/);
    expect(() => io.registerModule('test.Gated2', spec)).toThrow(/already registered as 'test.Gated'/);
  });
});

describe('state-dict files', () => {
  test('saveStateDict / loadStateDict round trip into Module.loadStateDict', () => {
    const a = CASES[CASES.length - 1].make();
    randomize(a, 1);
    const b = CASES[CASES.length - 1].make();
    const file = join(tempDir(), 'w.safetensors');
    io.saveStateDict(a, file);
    b.loadStateDict(io.loadStateDict(file));
    expectSameState(a, b);
    const file2 = join(tempDir(), 'sd.safetensors');
    io.saveStateDict(a.stateDict(), file2);
    expect(Object.keys(io.loadStateDict(file2))).toEqual(Object.keys(a.stateDict()));
  });

  // Python's safetensors is not installed here; this reads the file with only the format's spec
  // (u64 header length, JSON header, little-endian data) and NumPy, as any Python tool would.
  const hasNumpy = (() => {
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  test.runIf(hasNumpy)('python3 + NumPy read the weights file by the safetensors spec', () => {
    const model = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    randomize(model, 2);
    const dir = tempDir();
    io.save(model, dir);
    const script = [
      'import json, struct, sys, numpy as np',
      'b = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", b[:8])[0]',
      'h = json.loads(b[8:8 + n])',
      'out = {}',
      'for k, v in h.items():',
      '    if k == "__metadata__": continue',
      '    s, e = v["data_offsets"]',
      '    a = np.frombuffer(b[8 + n + s:8 + n + e], dtype={"F32": "<f4", "I32": "<i4"}[v["dtype"]]).reshape(v["shape"])',
      '    out[k] = [list(a.shape), a.astype(np.float64).ravel().tolist()]',
      'print(json.dumps(out))',
    ].join('\n');
    const out = JSON.parse(execFileSync('python3', ['-c', script, join(dir, readManifest(dir).weights.file)], { encoding: 'utf8' }));
    for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
      expect(out[name][0], name).toEqual(t.shape);
      expect(out[name][1], name).toEqual(Array.from(t.data));
    }
  });
});

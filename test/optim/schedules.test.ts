// Learning-rate schedules give the documented sequences (PyTorch semantics).
import { describe, expect, test } from 'vitest';
import { CosineAnnealingLR, ExponentialLR, LinearWarmup, ReduceLROnPlateau, StepLR } from '../../lib/optim/lr_scheduler.js';

/** A stand-in optimizer: schedules only read and write paramGroups[i].lr. */
function fakeOptimizer(...lrs: number[]) {
  return { paramGroups: lrs.map((lr) => ({ lr })) };
}

function sequence(stepper: { step(m?: number): void; getLastLr(): number[] }, n: number, metric?: (t: number) => number): number[][] {
  const out = [stepper.getLastLr()];
  for (let t = 1; t < n; t++) {
    if (metric) stepper.step(metric(t));
    else stepper.step();
    out.push(stepper.getLastLr());
  }
  return out;
}

function expectSeq(actual: number[][], expected: number[][]) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) => row.forEach((v, i) => expect(v, `epoch ${t} group ${i}`).toBeCloseTo(expected[t][i], 12)));
}

describe('learning-rate schedules', () => {
  test('StepLR stepSize=3 gamma=0.5, two groups', () => {
    const s = new StepLR(fakeOptimizer(1, 0.2), 3, 0.5);
    expectSeq(sequence(s, 8), [0, 1, 2, 3, 4, 5, 6, 7].map((t) => [0.5 ** Math.floor(t / 3), 0.2 * 0.5 ** Math.floor(t / 3)]));
  });

  test('ExponentialLR gamma=0.9', () => {
    const s = new ExponentialLR(fakeOptimizer(0.1), 0.9);
    expectSeq(sequence(s, 5), [[0.1], [0.09], [0.081], [0.0729], [0.06561]]);
  });

  test('CosineAnnealingLR tMax=4 etaMin=0.01 from 0.1', () => {
    const s = new CosineAnnealingLR(fakeOptimizer(0.1), 4, 0.01);
    const c = (t: number) => 0.01 + (0.09 * (1 + Math.cos((Math.PI * t) / 4))) / 2;
    expectSeq(sequence(s, 5), [[0.1], [c(1)], [c(2)], [c(3)], [0.01]]);
    expect(c(2)).toBeCloseTo(0.055, 12);
  });

  test('ReduceLROnPlateau patience=2 factor=0.5 cooldown=1 minLr=0.02', () => {
    const opt = fakeOptimizer(0.1);
    const s = new ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1, minLr: 0.02 });
    // metric improves for 2 epochs, then stalls
    const metrics = [1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
    const lrs = metrics.map((m) => { s.step(m); return opt.paramGroups[0].lr; });
    // bad epochs: 3rd,4th,5th stalled -> 3 > patience at the 5th value (index 4): 0.05; cooldown 1 epoch
    // (index 5 resets the count), then 3 more bad epochs (6,7,8) -> 0.025 at index 8; then clamped to 0.02.
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]);
    for (let i = 0; i < 4; i++) s.step(0.9);
    expect(opt.paramGroups[0].lr).toBe(0.02);
  });

  test('ReduceLROnPlateau mode=max with an absolute threshold', () => {
    const opt = fakeOptimizer(1);
    const s = new ReduceLROnPlateau(opt, { mode: 'max', patience: 0, thresholdMode: 'abs', threshold: 0.1 });
    s.step(0.5); // best 0.5
    expect(opt.paramGroups[0].lr).toBe(1);
    s.step(0.55); // not better by 0.1 -> 1 bad epoch > patience 0 -> reduce
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.1, 15);
    s.step(0.7); // better
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.1, 15);
  });

  test('LinearWarmup 4 steps from 1/4, then CosineAnnealingLR tMax=2', () => {
    const opt = fakeOptimizer(0.2);
    const cosine = new CosineAnnealingLR(opt, 2);
    const s = new LinearWarmup(opt, { warmupSteps: 4, startFactor: 0.25, after: cosine });
    const f = (t: number) => 0.25 + (0.75 * t) / 4;
    expectSeq(sequence(s, 7), [[0.2 * f(0)], [0.2 * f(1)], [0.2 * f(2)], [0.2 * f(3)], [0.2], [0.1], [0]]);
  });

  test('LinearWarmup then ReduceLROnPlateau receives the metrics after the warm-up', () => {
    const opt = fakeOptimizer(1);
    const plateau = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    const s = new LinearWarmup(opt, { warmupSteps: 2, startFactor: 0.5, after: plateau });
    expect(opt.paramGroups[0].lr).toBe(0.5);
    s.step(10);
    expect(opt.paramGroups[0].lr).toBe(0.75);
    s.step(10);
    expect(opt.paramGroups[0].lr).toBe(1);
    s.step(1); // best = 1
    expect(opt.paramGroups[0].lr).toBe(1);
    s.step(2); // worse -> halve
    expect(opt.paramGroups[0].lr).toBe(0.5);
  });

  test('bad arguments name the schedule and the value', () => {
    expect(() => new StepLR(fakeOptimizer(1), 0)).toThrow(/StepLR: stepSize must be an integer >= 1, got 0/);
    expect(() => new ExponentialLR(fakeOptimizer(1), -1)).toThrow(/ExponentialLR: gamma must be > 0, got -1/);
    expect(() => new ReduceLROnPlateau(fakeOptimizer(1), { factor: 1 })).toThrow(/ReduceLROnPlateau: factor must be in \[0, 1\), got 1/);
    expect(() => new LinearWarmup(fakeOptimizer(1), { warmupSteps: 2, startFactor: 0 })).toThrow(/LinearWarmup: startFactor must be in \(0, 1\], got 0/);
  });
});

describe('scheduler state (stateDict / loadStateDict)', () => {
  type Sched = { step(m?: number): void; getLastLr(): number[]; stateDict(): unknown; loadStateDict(sd: never): void };
  const metric = (t: number) => [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2][t % 13];
  const makers: [string, (o: ReturnType<typeof fakeOptimizer>) => Sched, boolean][] = [
    ['StepLR', (o) => new StepLR(o, 3, 0.5), false],
    ['ExponentialLR', (o) => new ExponentialLR(o, 0.9), false],
    ['CosineAnnealingLR', (o) => new CosineAnnealingLR(o, 7, 0.01), false],
    ['ReduceLROnPlateau', (o) => new ReduceLROnPlateau(o, { patience: 1, cooldown: 1, factor: 0.5 }), true],
    ['LinearWarmup -> StepLR', (o) => new LinearWarmup(o, { warmupSteps: 3, after: new StepLR(o, 2, 0.5) }), false],
    ['LinearWarmup -> ReduceLROnPlateau', (o) => new LinearWarmup(o, { warmupSteps: 2, after: new ReduceLROnPlateau(o, { patience: 0 }) }), true],
  ];

  test.each(makers)('%s: 5 steps, save (through JSON), load into a fresh one, 6 more == 11 straight', (_, make, needsMetric) => {
    const step = (s: Sched, t: number) => (needsMetric ? s.step(metric(t)) : s.step());
    const straightOpt = fakeOptimizer(1, 0.3);
    const straight = make(straightOpt);
    for (let t = 1; t <= 11; t++) step(straight, t);

    const firstOpt = fakeOptimizer(1, 0.3);
    const first = make(firstOpt);
    for (let t = 1; t <= 5; t++) step(first, t);
    const saved = JSON.parse(JSON.stringify(first.stateDict()));

    // A resumed run rebuilds the optimizer (its lrs come back with the optimizer state) and the scheduler.
    const resumedOpt = fakeOptimizer(1, 0.3);
    const resumed = make(resumedOpt);
    resumedOpt.paramGroups.forEach((g, i) => { g.lr = firstOpt.paramGroups[i].lr; });
    resumed.loadStateDict(saved as never);
    expect(resumed.getLastLr()).toEqual(first.getLastLr());
    for (let t = 6; t <= 11; t++) step(resumed, t);
    expect(resumed.getLastLr()).toEqual(straight.getLastLr());
    expect(resumed.stateDict()).toEqual(straight.stateDict());
  });

  test('loadStateDict refuses a state from another kind, another group count or with bad fields', () => {
    const o = fakeOptimizer(1, 0.3);
    const step = new StepLR(o, 3);
    expect(() => step.loadStateDict(new ExponentialLR(fakeOptimizer(1, 0.3), 0.9).stateDict())).toThrow(/^StepLR.loadStateDict: the state was saved by a ExponentialLR/);
    expect(() => step.loadStateDict(new StepLR(fakeOptimizer(1), 3).stateDict())).toThrow(/1 parameter groups, the optimizer 2/);
    expect(() => step.loadStateDict({ type: 'StepLR', lastEpoch: -1, baseLrs: [1, 1] })).toThrow(/lastEpoch must be an integer >= 0, got -1/);
    expect(() => step.loadStateDict({ type: 'StepLR', lastEpoch: 2, baseLrs: [1, NaN] } as never)).toThrow(RangeError);
    expect(() => step.loadStateDict({ type: 'StepLR', lastEpoch: 2, baseLrs: [1, 1], extra: 1 } as never)).toThrow(/unknown field 'extra'/);
    expect(() => step.loadStateDict(null as never)).toThrow(TypeError);
    const plateau = new ReduceLROnPlateau(o);
    expect(() => plateau.loadStateDict({ type: 'ReduceLROnPlateau', lastEpoch: 1, best: 'x', numBadEpochs: 0, cooldownCounter: 0 } as never)).toThrow(/best must be a finite number or null/);
    const warm = new LinearWarmup(o, { warmupSteps: 2 });
    const other = fakeOptimizer(1, 0.3);
    expect(() => warm.loadStateDict(new LinearWarmup(other, { warmupSteps: 2, after: new StepLR(other, 2) }).stateDict()))
      .toThrow(/saved with an 'after' schedule/);
    expect(step.lastEpoch).toBe(0); // refused loads change nothing
  });
});

// The public names issue 5 says must exist, checked on the package entry point (lib/index.ts), so a
// rename or a lost export fails here rather than in a user's program.
import { describe, expect, test } from 'vitest';
import * as tf from '../../lib/index.js';

const REQUIRED: Record<string, string[]> = {
  '': ['tensor', 'zeros', 'ones', 'full', 'rand', 'randn', 'arange', 'manualSeed', 'noGrad', 'Tensor',
    'backendInfo', 'setBackend', 'setNumThreads', 'fit', 'evaluate', 'predict', 'predictAsync'],
  ops: ['linear', 'conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool2d', 'relu', 'leakyRelu', 'elu', 'sigmoid',
    'tanh', 'softplus', 'softmax', 'logSoftmax', 'maxout', 'dropout', 'batchNorm', 'layerNorm',
    'add', 'sub', 'mul', 'div'],
  losses: ['mse', 'l1', 'huber', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'crossEntropy', 'nll', 'hinge',
    'l1Penalty', 'l2Penalty'],
  nn: ['Module', 'Sequential', 'Linear', 'Conv2d', 'MaxPool2d', 'AvgPool2d', 'GlobalAvgPool2d', 'Flatten', 'Dropout',
    'BatchNorm1d', 'BatchNorm2d', 'LayerNorm', 'ReLU', 'LeakyReLU', 'ELU', 'Sigmoid', 'Tanh', 'Softmax', 'Maxout',
    'Identity', 'Residual'],
  init: ['zeros', 'constant', 'uniform', 'normal', 'glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'lecunNormal'],
  optim: ['SGD', 'Adagrad', 'RMSprop', 'Adam', 'AdamW', 'StepLR', 'ExponentialLR', 'CosineAnnealingLR',
    'ReduceLROnPlateau', 'LinearWarmup'],
  io: ['save', 'load'],
  data: ['Dataset', 'DataLoader', 'trainTestSplit', 'StandardScaler', 'MinMaxScaler', 'oneHot', 'readIdx', 'readCsv'],
  metrics: ['accuracy', 'topKAccuracy', 'precision', 'recall', 'f1', 'confusionMatrix', 'mse', 'mae', 'r2'],
};

const TENSOR_MEMBERS = ['backward', 'detach', 'item', 'toArray', 'toFloat32Array', 'matmul', 'add', 'relu', 'reshape',
  'transpose', 'permute', 'slice', 'concat', 'sum', 'mean', 'max', 'argmax'];

describe('public API surface', () => {
  for (const [ns, names] of Object.entries(REQUIRED)) {
    test(`${ns || 'tensorforge'}: ${names.length} names`, () => {
      const scope = (ns ? (tf as Record<string, unknown>)[ns] : tf) as Record<string, unknown>;
      expect(scope, `namespace ${ns}`).toBeDefined();
      const missing = names.filter((n) => typeof scope[n] !== 'function');
      expect(missing).toEqual([]);
    });
  }

  test('Tensor has the documented fields and method forms', () => {
    const t = tf.tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
    expect(t.shape).toEqual([2, 2]);
    expect(t.dtype).toBe('float32');
    expect(t.size).toBe(4);
    expect(t.requiresGrad).toBe(true);
    expect(t.grad).toBeNull();
    const missing = TENSOR_MEMBERS.filter((m) => typeof (t as unknown as Record<string, unknown>)[m] !== 'function');
    expect(missing).toEqual([]);
  });

  test('Module has parameters, modes, state dicts, freezing and a readable toString', () => {
    const m = new tf.nn.Linear(3, 2);
    for (const k of ['forward', 'parameters', 'namedParameters', 'train', 'eval', 'stateDict', 'loadStateDict', 'freeze', 'unfreeze', 'fit']) {
      expect(typeof (m as unknown as Record<string, unknown>)[k], k).toBe('function');
    }
    expect(String(m)).toMatch(/Linear/);
  });
});

// One small valid call per kernel (argument lists with fresh buffers each time), shared by the fuzz
// suite (which then breaks each argument) and the outputs suite (which checks what a kernel writes).
import type { KernelName } from '../../lib/backend/backend.js';

/** Builds the calls with float buffers from `fill` (default: every element 0.5). */
export function validKernelCalls(fill: (n: number) => Float32Array = (n) => new Float32Array(n).fill(0.5)): Record<KernelName, () => unknown[]> {
  const f = fill;
  const i32 = (n: number) => new Int32Array(n);

  const conv = {
    n: 2, h: 5, w: 4, c: 2, kh: 3, kw: 2, oc: 3, strideH: 1, strideW: 2, dilationH: 1, dilationW: 1,
    padTop: 1, padBottom: 1, padLeft: 0, padRight: 0, groups: 1, oh: 5, ow: 2,
  };
  const pool = {
    n: 2, h: 5, w: 4, c: 3, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 1, padBottom: 0, padLeft: 0, padRight: 0,
    oh: 3, ow: 2,
  };
  const epi = { activation: 'relu', alpha: 0 };
  const mm = { m: 3, n: 5, k: 4, transA: false, transB: true, accumulate: false, activation: 'none', alpha: 0 };
  const adam = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: true, amsgrad: true, step: 1 };

  return {
    matmul: () => [{ ...mm }, f(12), f(20), f(5), f(15)],
    conv2d: () => [{ ...conv }, { ...epi }, f(80), f(36), f(3), f(60)],
    conv2dBackwardInput: () => [{ ...conv }, f(80), f(60), f(36)],
    conv2dBackwardFilter: () => [{ ...conv }, f(36), f(3), f(60), f(80)],
    maxPool2d: () => [{ ...pool }, f(120), f(36)],
    maxPool2dBackward: () => [{ ...pool }, f(120), f(36), f(120)],
    avgPool2d: () => [{ ...pool }, false, f(120), f(36)],
    avgPool2dBackward: () => [{ ...pool }, true, f(120), f(36)],
    globalAvgPool2d: () => [2, 6, 3, f(36), f(6)],
    globalAvgPool2dBackward: () => [2, 6, 3, f(36), f(6)],
    globalMaxPool2d: () => [2, 6, 3, f(36), f(6)],
    globalMaxPool2dBackward: () => [2, 6, 3, f(36), f(6), f(36)],
    unary: () => ['elu', 1, f(7), f(7)],
    unaryBackward: () => ['sigmoid', 0, f(7), f(7), null, f(7)],
    binary: () => ['add', [2, 1, 3], f(6), [4, 1], f(4), f(24)],
    binaryBackward: () => ['maximum', f(6), f(4), f(24), [2, 1, 3], f(6), [4, 1], f(4)],
    reduce: () => ['sum', [2, 3, 4], [0, 2], f(24), f(3)],
    reduceBackward: () => ['max', [2, 3, 4], [1], f(24), f(8), f(24), f(8)],
    argmax: () => [[2, 3, 4], 1, f(24), i32(8)],
    softmax: () => [2, 3, 4, f(24), f(24)],
    softmaxBackward: () => [2, 3, 4, f(24), f(24), f(24)],
    logSoftmax: () => [2, 3, 4, f(24), f(24)],
    logSoftmaxBackward: () => [2, 3, 4, f(24), f(24), f(24)],
    softmaxCrossEntropy: () => [3, 4, 0.1, f(12), Int32Array.from([0, 3, 1]), f(3), f(12)],
    softmaxCrossEntropyBackward: () => [3, 4, 0, f(12), f(3), f(12), f(12)],
    batchNormTrain: () => [6, 2, 1e-5, 0.1, f(12), f(2), f(2), f(2), f(2), f(12), f(2), f(2)],
    batchNormInference: () => [6, 2, 1e-5, f(12), f(2), null, f(2), f(2), f(12)],
    batchNormBackward: () => [6, 2, f(12), f(2), f(2), f(12), f(12), f(2), f(2), f(2)],
    layerNorm: () => [3, 4, 1e-5, f(12), f(4), f(4), f(12), f(3), f(3)],
    layerNormBackward: () => [3, 4, f(12), f(4), null, f(12), f(12), f(4), f(3), f(3)],
    dropout: () => [0.3, 12345, f(9), f(9), f(9)],
    gatherRows: () => [3, f(12), Int32Array.from([3, 0, 3]), f(9)],
    sgdUpdate: () => [{ lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01, firstStep: true }, f(5), f(5), f(5)],
    adagradUpdate: () => [{ lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, step: 1 }, f(5), f(5), f(5)],
    rmspropUpdate: () => [{ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: true }, f(5), f(5), f(5), f(5), f(5)],
    adamUpdate: () => [{ ...adam }, f(5), f(5), f(5), f(5), f(5)],
  };
}

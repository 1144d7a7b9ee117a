// The kernel interface: one closed, typed list of kernels that every backend implements.
//
// Two implementations exist: `reference` (plain TypeScript loops, always available, the oracle) and
// `native` (the C++ addon). The library above this line never knows which one it is talking to.
//
// Conventions for every kernel:
// - Buffers are flat, row-major, float32 (Int32Array where named). Images are NHWC, conv filters HWIO.
// - The caller allocates every output; kernels never allocate what they return. Outputs are written
//   in full (overwrite) unless a flag says they accumulate.
// - Every size is an integer >= 1. Every buffer length must equal the product of its shape; a kernel
//   checks this before touching memory and throws TypeError (wrong type) or RangeError (wrong size or
//   value) with a message that starts with the kernel name: `matmul: a has length 10, expected 12 ...`.
// - Results do not depend on the thread count (bit-identical) and, for a given backend, are
//   deterministic. The two backends agree within float tolerance.
// - Backward kernels take outputs first, `d`-prefixed: `(dx, ...)` is written as `dx`, never `+=`.

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Activations that can be fused into a matmul or conv epilogue. `alpha` is the leaky-relu slope or the ELU alpha. */
export type Activation = 'none' | 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh';

export interface Epilogue {
  activation: Activation;
  /** leakyRelu: negative slope (>= 0). elu: alpha (> 0). Ignored otherwise. */
  alpha: number;
}

export type UnaryOp =
  | 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh' | 'softplus'
  | 'exp' | 'log' | 'sqrt' | 'square' | 'abs' | 'neg';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';

export type ReduceOp = 'sum' | 'mean' | 'max';

// ---------------------------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------------------------

/**
 * C[M,N] = act(op(A)·op(B) + bias + (accumulate ? C : 0))
 * A is [M,K] (or [K,M] when transA), B is [K,N] (or [N,K] when transB), bias is [N] or null.
 * C must not share memory with A, B or bias (a RangeError says so).
 */
export interface MatmulArgs extends Epilogue {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** true: add the product into the existing C (gradient accumulation). */
  accumulate: boolean;
}

// ---------------------------------------------------------------------------------------------
// convolution and pooling (all sizes resolved: padding is explicit per side, output size given)
// ---------------------------------------------------------------------------------------------

/**
 * x [N,H,W,C], w [KH,KW,C/groups,OC], bias [OC] -> y [N,OH,OW,OC]
 * OH = floor((H + padTop + padBottom - dilationH*(KH-1) - 1) / strideH) + 1 (same for OW);
 * `oh`/`ow` must equal that (see shape.ts). C and OC must be divisible by groups.
 */
export interface Conv2dArgs {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number; oc: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  groups: number;
  oh: number; ow: number;
}

/**
 * x [N,H,W,C] -> y [N,OH,OW,C]; window KH x KW, stride, explicit padding (each pad < its kernel size,
 * and at most half of it, as in PyTorch, so every window holds at least one real element).
 */
export interface Pool2dArgs {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number;
  strideH: number; strideW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  oh: number; ow: number;
}

// ---------------------------------------------------------------------------------------------
// optimizer updates (fused, over one flat parameter buffer; every buffer has the length of w)
// ---------------------------------------------------------------------------------------------

/**
 * Optional in every optimizer update's args: where each parameter starts in w (integer offsets, the first
 * 0, strictly ascending, each below w.length). The native backend then gives each thread the same share
 * of every parameter as the training step's matmuls give it (kernels/optim.h); no result depends on it.
 */
export interface ParamLayout {
  paramStarts?: readonly number[];
}

/** PyTorch SGD. On the first step the momentum buffer is set to g (no dampening), as PyTorch does. */
export interface SgdArgs extends ParamLayout {
  lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number;
  /** true on the first step for this buffer (the momentum buffer is initialised from g). */
  firstStep: boolean;
}

/** PyTorch Adagrad: clr = lr / (1 + (step-1)*lrDecay); sum += g²; w -= clr * g / (sqrt(sum) + eps). */
export interface AdagradArgs extends ParamLayout { lr: number; lrDecay: number; weightDecay: number; eps: number; step: number }

/** PyTorch RMSprop (alpha = smoothing constant; centered subtracts the mean gradient squared). */
export interface RmspropArgs extends ParamLayout {
  lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean;
}

/**
 * PyTorch Adam / AdamW. `step` counts from 1 (bias correction). decoupledWeightDecay=false is Adam's L2
 * (g += wd*w); true is AdamW (w *= 1 - lr*wd before the Adam update).
 */
export interface AdamArgs extends ParamLayout {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  decoupledWeightDecay: boolean; amsgrad: boolean; step: number;
}

export interface BackendInfo {
  name: 'native' | 'reference';
  /** Active instruction set: 'scalar' | 'avx2' | 'avx512' | 'neon' for native, 'typescript' for reference. */
  isa: string;
  /** Best instruction set the CPU supports (native), 'typescript' for reference. */
  detectedIsa: string;
  numThreads: number;
}

/**
 * The backend interface. Section comments give the shape legend; see the file header for the rules
 * every kernel follows.
 */
export interface Backend {
  readonly name: 'native' | 'reference';
  info(): BackendInfo;
  /** Native: resize the thread pool (n >= 1). Reference: accepted and ignored (single-threaded). */
  setNumThreads(n: number): void;

  // --- matmul: a [M,K]|[K,M], b [K,N]|[N,K], bias [N]|null -> c [M,N]
  matmul(args: MatmulArgs, a: F32, b: F32, bias: F32 | null, c: F32): void;

  // --- conv2d: x [N,H,W,C], w [KH,KW,C/G,OC], bias [OC]|null -> y [N,OH,OW,OC]
  conv2d(args: Conv2dArgs, epilogue: Epilogue, x: F32, w: F32, bias: F32 | null, y: F32): void;
  /** dx [N,H,W,C] = ∂L/∂x given dy [N,OH,OW,OC] and w (overwrites dx). */
  conv2dBackwardInput(args: Conv2dArgs, dx: F32, dy: F32, w: F32): void;
  /** dw [KH,KW,C/G,OC] = ∂L/∂w, dbias [OC] = Σ dy (when non-null), given x and dy (overwrite). */
  conv2dBackwardFilter(args: Conv2dArgs, dw: F32, dbias: F32 | null, dy: F32, x: F32): void;

  // --- pooling: x [N,H,W,C] -> y [N,OH,OW,C]
  maxPool2d(args: Pool2dArgs, x: F32, y: F32): void;
  /** Routes each dy to the first maximum of its window (row-major scan, padding never wins). */
  maxPool2dBackward(args: Pool2dArgs, dx: F32, dy: F32, x: F32): void;
  /** countIncludePad=false divides by the number of real (non-padding) elements in the window. */
  avgPool2d(args: Pool2dArgs, countIncludePad: boolean, x: F32, y: F32): void;
  avgPool2dBackward(args: Pool2dArgs, countIncludePad: boolean, dx: F32, dy: F32): void;
  // global pooling: x [N,HW,C] -> y [N,C]
  globalAvgPool2d(n: number, hw: number, c: number, x: F32, y: F32): void;
  globalAvgPool2dBackward(n: number, hw: number, c: number, dx: F32, dy: F32): void;
  globalMaxPool2d(n: number, hw: number, c: number, x: F32, y: F32): void;
  /** Routes each dy to the first maximum over HW. */
  globalMaxPool2dBackward(n: number, hw: number, c: number, dx: F32, dy: F32, x: F32): void;

  // --- elementwise unary: y = op(x), same length
  unary(op: UnaryOp, alpha: number, x: F32, y: F32): void;
  /**
   * dx = dy * op'(x). Which input is read: relu, leakyRelu (alpha >= 0), elu (alpha > 0), sigmoid, tanh,
   * exp, sqrt read y only; softplus, log, square, abs read x only; neg reads neither. The unread one may
   * be null (this is what lets a fused matmul+relu skip keeping its pre-activation).
   */
  unaryBackward(op: UnaryOp, alpha: number, dx: F32, dy: F32, x: F32 | null, y: F32 | null): void;

  // --- elementwise binary with NumPy broadcasting: y shape = broadcast(aShape, bShape)
  binary(op: BinaryOp, aShape: readonly number[], a: F32, bShape: readonly number[], b: F32, y: F32): void;
  /**
   * da (aShape), db (bShape) = gradients summed back over broadcast axes (either may be null to skip).
   * maximum/minimum: the larger/smaller input takes the gradient; a tie splits it half and half (PyTorch).
   */
  binaryBackward(
    op: BinaryOp, da: F32 | null, db: F32 | null, dy: F32,
    aShape: readonly number[], a: F32, bShape: readonly number[], b: F32,
  ): void;

  // --- reductions over a set of axes (sorted, unique, in range): y shape = shape without those axes
  reduce(op: ReduceOp, shape: readonly number[], axes: readonly number[], x: F32, y: F32): void;
  /** max routes the gradient to the first maximum (the one argmax names). */
  reduceBackward(
    op: ReduceOp, shape: readonly number[], axes: readonly number[], dx: F32, dy: F32, x: F32, y: F32,
  ): void;
  /** y (Int32Array, shape without `axis`) = index of the first maximum along `axis`. */
  argmax(shape: readonly number[], axis: number, x: F32, y: I32): void;

  // --- softmax over the middle axis of [outer, dim, inner]
  softmax(outer: number, dim: number, inner: number, x: F32, y: F32): void;
  softmaxBackward(outer: number, dim: number, inner: number, dx: F32, dy: F32, y: F32): void;
  logSoftmax(outer: number, dim: number, inner: number, x: F32, y: F32): void;
  logSoftmaxBackward(outer: number, dim: number, inner: number, dx: F32, dy: F32, y: F32): void;

  /**
   * Fused softmax + cross-entropy over logits [N,C]. target: class indices Int32Array [N] (each in
   * [0,C)) or probabilities Float32Array [N,C]. With index targets, labelSmoothing s in [0,1) uses the
   * target distribution (1-s)·onehot + s/C (PyTorch); probability targets t are smoothed the same way,
   * (1-s)·t + s/C (PyTorch too). Writes loss [N] (per row, unreduced) and probs
   * [N,C] (the softmax, saved for backward).
   */
  softmaxCrossEntropy(
    n: number, c: number, labelSmoothing: number, logits: F32, target: I32 | F32, loss: F32, probs: F32,
  ): void;
  /** dlogits [N,C] = (probs - targetDistribution) * dloss[row]. */
  softmaxCrossEntropyBackward(
    n: number, c: number, labelSmoothing: number, dlogits: F32, dloss: F32, probs: F32, target: I32 | F32,
  ): void;

  // --- normalization. Batch norm sees x as [M,C] (M = N·H·W in NHWC); layer norm as [M,D] over D.
  /**
   * Training mode: normalizes with the batch mean and biased variance, writes saveMean/saveInvStd [C]
   * (invStd = 1/sqrt(var+eps)) and, when runningMean/runningVar are non-null, updates them in place:
   * r = (1-momentum)·r + momentum·batchStat, with the unbiased variance (PyTorch). gamma/beta may be null
   * (scale 1, shift 0). M must be >= 2 when running stats are updated (unbiased variance).
   */
  batchNormTrain(
    m: number, c: number, eps: number, momentum: number,
    x: F32, gamma: F32 | null, beta: F32 | null, runningMean: F32 | null, runningVar: F32 | null,
    y: F32, saveMean: F32, saveInvStd: F32,
  ): void;
  /** Inference mode: normalizes with runningMean/runningVar. */
  batchNormInference(
    m: number, c: number, eps: number,
    x: F32, gamma: F32 | null, beta: F32 | null, runningMean: F32, runningVar: F32, y: F32,
  ): void;
  /** Backward of batchNormTrain (batch statistics). dgamma/dbeta may be null to skip. */
  batchNormBackward(
    m: number, c: number, dx: F32, dgamma: F32 | null, dbeta: F32 | null,
    dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
  ): void;
  /** x [M,D] normalized over D; gamma/beta [D] or null; saveMean/saveInvStd [M]. */
  layerNorm(
    m: number, d: number, eps: number, x: F32, gamma: F32 | null, beta: F32 | null,
    y: F32, saveMean: F32, saveInvStd: F32,
  ): void;
  layerNormBackward(
    m: number, d: number, dx: F32, dgamma: F32 | null, dbeta: F32 | null,
    dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
  ): void;

  /**
   * Inverted dropout with a counter-based mask, identical on every backend and thread count:
   *   h = lowbias32((i·0x9E3779B9 + lowbias32(seed)) mod 2³²), u = (h >>> 8) / 2²⁴,
   *   keep element i iff u >= p; mask[i] = keep ? 1/(1-p) : 0; y = x·mask.
   * lowbias32(v): v ^= v>>>16; v = v·0x7feb352d; v ^= v>>>15; v = v·0x846ca68b; v ^= v>>>16 (all mod 2³²).
   * seed is an unsigned 32-bit integer; p in [0,1). Backward is binary mul(dy, mask).
   */
  dropout(p: number, seed: number, x: F32, y: F32, mask: F32): void;

  /**
   * Row gather (building a batch from sample indices): x holds rows of `rowSize` floats (x.length a
   * multiple of rowSize); y [indices.length, rowSize] gets row indices[i] of x as its row i. Every
   * index must be in [0, x.length / rowSize); indices.length >= 1.
   */
  gatherRows(rowSize: number, x: F32, indices: I32, y: F32): void;

  // --- fused optimizer updates: w, g and every state buffer have the same length; state updated in place.
  // State values are stored with subnormal magnitudes (< 2^-126) flushed to 0: a parameter whose
  // gradient is 0 has its state decay through that range, where x86 arithmetic is ~100x slower.
  sgdUpdate(args: SgdArgs, w: F32, g: F32, momentumBuf: F32 | null): void;
  adagradUpdate(args: AdagradArgs, w: F32, g: F32, sumSq: F32): void;
  rmspropUpdate(
    args: RmspropArgs, w: F32, g: F32, squareAvg: F32, gradAvg: F32 | null, momentumBuf: F32 | null,
  ): void;
  adamUpdate(args: AdamArgs, w: F32, g: F32, m: F32, v: F32, vMax: F32 | null): void;
}

/** The kernel names, for tests that check both backends implement the whole interface. */
export const KERNEL_NAMES = [
  'matmul',
  'conv2d', 'conv2dBackwardInput', 'conv2dBackwardFilter',
  'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward',
  'globalAvgPool2d', 'globalAvgPool2dBackward', 'globalMaxPool2d', 'globalMaxPool2dBackward',
  'unary', 'unaryBackward', 'binary', 'binaryBackward',
  'reduce', 'reduceBackward', 'argmax',
  'softmax', 'softmaxBackward', 'logSoftmax', 'logSoftmaxBackward',
  'softmaxCrossEntropy', 'softmaxCrossEntropyBackward',
  'batchNormTrain', 'batchNormInference', 'batchNormBackward', 'layerNorm', 'layerNormBackward',
  'dropout',
  'gatherRows',
  'sgdUpdate', 'adagradUpdate', 'rmspropUpdate', 'adamUpdate',
] as const satisfies readonly (keyof Backend)[];

export type KernelName = (typeof KERNEL_NAMES)[number];

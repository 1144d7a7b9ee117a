// The recorded graph (define-by-run). An op computes its output eagerly and, when some input requires
// a gradient and grad mode is on, links the output to a Node holding the op's backward closure. The
// closure is written right under the forward in the op's file and captures only what backward needs
// (its saved tensors); `release()` drops it, which frees those saved tensors once backward has run.

import type { Tensor } from '../tensor.js';

/**
 * Backward of one op: given dy (the gradient of the op's output, same length), returns one gradient
 * per input (a fresh buffer or one the engine may keep; never modified afterwards by the op), or null
 * for inputs that need none. `needs[i]` says whether input i wants a gradient, so work can be skipped.
 *
 * `into[i]`, when not null, is the existing gradient buffer of a leaf input (a parameter's `.grad`,
 * possibly a view into an optimizer's flat buffer). An op whose kernel can accumulate (matmul with
 * `accumulate: true`) may add input i's gradient straight into it and return `into[i]` itself to say
 * so; the engine then has nothing left to add. Ops that ignore `into` return fresh buffers as usual.
 * `intoIsZero[i]` true means into[i]'s current contents stand for zeros (zeroGrad defers the fill):
 * such an op must then write the gradient over it (accumulate: false) instead of adding.
 */
export type BackwardFn = (
  dy: Float32Array, needs: readonly boolean[], into: readonly (Float32Array | null)[], intoIsZero: readonly boolean[],
) => (Float32Array | null)[];

export class Node {
  /** Which inputs want a gradient (fixed when the op ran). */
  readonly needs: readonly boolean[];
  private inputsHeld: Tensor[];
  private backwardFn: BackwardFn | null;

  constructor(readonly name: string, inputs: Tensor[], backward: BackwardFn) {
    this.inputsHeld = inputs;
    this.needs = inputs.map((t) => t.requiresGrad);
    this.backwardFn = backward;
  }

  /** Graph edges; empty once the node has been released. */
  get inputs(): readonly Tensor[] {
    return this.inputsHeld;
  }

  get released(): boolean {
    return this.backwardFn === null;
  }

  run(dy: Float32Array, into: readonly (Float32Array | null)[], intoIsZero: readonly boolean[]): (Float32Array | null)[] {
    if (this.backwardFn === null) {
      throw new Error(
        `backward: trying to backward through the graph a second time (the tensors saved by '${this.name}' ` +
          'were freed after the first backward). Call backward({ retainGraph: true }) the first time if you ' +
          'need to backward through the same graph again.',
      );
    }
    const grads = this.backwardFn(dy, this.needs, into, intoIsZero);
    if (grads.length !== this.inputsHeld.length) {
      throw new Error(`backward: '${this.name}' returned ${grads.length} gradients for ${this.inputsHeld.length} inputs`);
    }
    return grads;
  }

  /** Frees the saved tensors and the edges. */
  release(): void {
    this.backwardFn = null;
    this.inputsHeld = [];
  }
}

let noGradDepth = 0;

/** True when ops record the graph (outside noGrad). */
export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

/** Runs fn without recording the graph: results do not require grad and nothing is saved. */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  try {
    return fn();
  } finally {
    noGradDepth--;
  }
}

/** True when an op on these inputs should record a node. */
export function shouldRecord(inputs: readonly Tensor[]): boolean {
  return noGradDepth === 0 && inputs.some((t) => t.requiresGrad);
}

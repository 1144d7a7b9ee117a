// The backward pass: a topological sort from the root, then each node's backward in reverse order.
// Gradients of intermediate tensors live in a map until their node has run (so a tensor used twice,
// e.g. a residual connection, receives the sum of both contributions before it propagates); leaves
// accumulate into `.grad` across calls until zeroed.
//
// Leaf gradients go into `.grad` as soon as the op producing them has run, not via the map: a leaf has
// no node to wait for, and an op whose kernel can accumulate (linear's weight gradient) is offered the
// leaf's existing `.grad` buffer to add into directly, with no temporary and no JS loop. That buffer is
// always written in place, never replaced, so an optimizer's flat-buffer views of it stay valid.

import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor.js';
import type { Node } from './graph.js';

export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through the same graph again (default false). */
  retainGraph?: boolean;
}

/** Tensors reachable from root through nodes, children before parents (iterative DFS, no recursion limit). */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.t);
      continue;
    }
    if (visited.has(top.t)) continue;
    visited.add(top.t);
    stack.push({ t: top.t, expanded: true });
    const node = top.t.gradFn;
    if (node === null) continue;
    for (const input of node.inputs) {
      if (input.requiresGrad && !visited.has(input)) stack.push({ t: input, expanded: false });
    }
  }
  return order; // post-order: every tensor after all of its inputs
}

function addInto(acc: Float32Array, g: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += g[i];
}

/**
 * out = a + b through the backend's add kernel (the same float sum as addInto): a tensor used twice
 * (a residual connection) gets its gradient summed by a kernel call, which a recorded training step
 * replays, not by a JS loop it would skip.
 */
function addKernel(a: Float32Array, b: Float32Array, out: Float32Array): void {
  getBackend().binary('add', [a.length], a, [b.length], b, out);
}

/**
 * Accumulates g into leaf.grad (creating it on first use; the leaf owns its gradient buffer). A grad
 * whose zeroing was deferred (Tensor.grad) is overwritten instead, in the same single pass.
 */
function accumulateLeaf(leaf: Tensor, g: Float32Array): void {
  const stored = leaf.storedGrad();
  if (stored === null) {
    leaf.grad = new Tensor(g.slice(), leaf.shape);
  } else if (leaf.gradStandsForZero) {
    (stored.data as Float32Array).set(g);
    leaf.gradStandsForZero = false;
  } else {
    addInto(stored.data as Float32Array, g);
  }
}

/** A leaf that takes gradients now (requiresGrad may have been switched off since the forward). */
function isLiveLeaf(t: Tensor): boolean {
  return t.gradFn === null && t.requiresGrad;
}

/**
 * For each input of node: the leaf's `.grad` buffer an op may accumulate into (or null), and whether
 * its contents stand for zeros (a deferred zeroGrad: the op overwrites it then).
 */
function accumulationTargets(node: Node): { into: (Float32Array | null)[]; intoIsZero: boolean[] } {
  const inputs = node.inputs;
  const into: (Float32Array | null)[] = new Array(inputs.length).fill(null);
  const intoIsZero: boolean[] = new Array(inputs.length).fill(false);
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k];
    const grad = input.storedGrad();
    if (node.needs[k] && isLiveLeaf(input) && grad !== null && grad.size === input.size) {
      into[k] = grad.data as Float32Array;
      intoIsZero[k] = input.gradStandsForZero;
    }
  }
  return { into, intoIsZero };
}

export function runBackward(root: Tensor, seed: Float32Array, options: BackwardOptions = {}): void {
  const order = topologicalOrder(root);
  const pending = new Map<Tensor, Float32Array>([[root, seed]]);
  const owned = new Set<Float32Array>([seed]); // sum buffers the engine made itself (safe to add into)
  const visitedNodes: Node[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = pending.get(t);
    if (g === undefined) continue;
    pending.delete(t);
    owned.delete(g); // an op may pass g through to its inputs: from here on it is shared
    const node = t.gradFn;
    if (node === null) {
      if (t.requiresGrad) accumulateLeaf(t, g); // only the root itself: other leaves never wait in pending
      continue;
    }
    const inputs = node.inputs;
    const { into, intoIsZero } = accumulationTargets(node);
    const grads = node.run(g, into, intoIsZero);
    visitedNodes.push(node);
    for (let k = 0; k < inputs.length; k++) {
      const gk = grads[k];
      if (!node.needs[k] || gk === null) continue;
      const input = inputs[k];
      if (gk.length !== input.size) {
        throw new Error(`backward: '${node.name}' returned a gradient of length ${gk.length} for an input of shape [${input.shape.join(',')}]`);
      }
      if (input.gradFn === null) {
        // A leaf: the op already wrote into its .grad (it returned the target), or the engine does now.
        if (!isLiveLeaf(input)) continue;
        if (gk === into[k]) input.gradStandsForZero = false;
        else accumulateLeaf(input, gk);
        continue;
      }
      const previous = pending.get(input);
      if (previous === undefined) {
        // Keep the op's buffer as is: ops may hand the same buffer to two inputs (add passes dy
        // through), so it is never modified in place; a second contribution makes a sum buffer.
        pending.set(input, gk);
      } else if (owned.has(previous)) {
        addKernel(previous, gk, previous);
      } else {
        const sum = new Float32Array(previous.length);
        addKernel(previous, gk, sum);
        owned.add(sum);
        pending.set(input, sum);
      }
    }
  }
  if (!options.retainGraph) for (const node of visitedNodes) node.release();
}

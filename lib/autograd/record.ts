// The one place ops create their outputs: a plain tensor, or one linked to the graph when recording.

import { Tensor, type TensorData } from '../tensor.js';
import { Node, shouldRecord, type BackwardFn } from './graph.js';

/**
 * Wraps an op's result. When grad mode is on and some input requires grad, the output gets a Node
 * with `backward`; otherwise `backward` is dropped (and with it anything it captured).
 */
export function output(
  name: string, inputs: Tensor[], data: TensorData, shape: readonly number[], backward: BackwardFn,
): Tensor {
  if (!shouldRecord(inputs)) return new Tensor(data, shape);
  return new Tensor(data, shape, { gradFn: new Node(name, inputs, backward) });
}

// Inverted dropout: in training, each element is zeroed with probability p and the survivors are
// scaled by 1/(1-p); in eval it is the identity. The mask comes from the backend's counter-based
// generator, seeded from the global generator, so manualSeed makes it reproducible on every backend.

import { output } from '../autograd/record.js';
import { kernelOutput } from '../backend/alloc.js';
import { getBackend } from '../backend/index.js';
import { globalGenerator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { checkNumber, floatData } from './check.js';

export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  const xd = floatData('dropout', 'x', x);
  checkNumber('dropout', 'p', p, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  if (!training || p === 0) return x;
  // p = 1 drops everything: y and mask are left zero-filled (the kernel takes p < 1)
  const y = p < 1 ? kernelOutput(xd.length) : new Float32Array(xd.length);
  const mask = p < 1 ? kernelOutput(xd.length) : new Float32Array(xd.length);
  if (p < 1) getBackend().dropout(p, globalGenerator.nextUint32(), xd, y, mask);
  // Backward multiplies by the saved mask (only the mask is kept).
  return output('dropout', [x], y, x.shape, (dy) => {
    const dx = kernelOutput(dy.length);
    getBackend().binary('mul', [dy.length], dy, [dy.length], mask, dx);
    return [dx];
  });
}

// Issue 2's worked example: 3 inputs, a ReLU hidden layer of two units (a, b), one ReLU output (c),
// loss ½(c − y)², one SGD step with lr 0.1. Every number below is the hand computation of issue 2.
import { describe, expect, test } from 'vitest';
import * as nn from '../../lib/nn/index.js';
import * as losses from '../../lib/losses/index.js';
import { tensor } from '../../lib/ops/creation.js';
import { SGD } from '../../lib/optim/index.js';
import { BACKENDS, onBackend } from '../helpers/gradcheck.js';

function buildNet() {
  const hidden = new nn.Linear(3, 2);
  const out = new nn.Linear(2, 1);
  // Linear weight is [in, out]: column 0 feeds unit a, column 1 unit b.
  hidden.weight.data.set([0.25, 0.5, 0.75, 0.125, 0.75, 0.25]);
  hidden.bias!.data.set([1, 1]);
  out.weight.data.set([0.5, 0.125]);
  out.bias!.data.set([0.5]);
  return { hidden, out };
}

for (const backend of BACKENDS) {
  describe(`issue-2 worked example (${backend})`, () => {
    test('forward a=0, b=3, c=0.875; loss 0.6328125; δc=-1.125, δb=-0.140625; SGD moves w(3→b) by +0.05625', () => {
      onBackend(backend, () => {
        const { hidden, out } = buildNet();
        const x = tensor([[4, -8, 4]]);
        const h = hidden.forward(x).relu();
        const c = out.forward(h).relu();
        expect(Array.from(h.data)).toEqual([0, 3]);
        expect(c.item()).toBeCloseTo(0.875, 7);

        const loss = losses.mse(c, tensor([[2]]), { reduction: 'sum' }).mul(0.5);
        expect(loss.item()).toBeCloseTo(0.6328125, 7);
        loss.backward();
        // A bias gradient is its unit's delta (∂loss/∂pre-activation).
        expect(out.bias!.grad!.item()).toBeCloseTo(-1.125, 7); // δc = (c − y)·relu'(c)
        expect(hidden.bias!.grad!.data[1]).toBeCloseTo(-0.140625, 7); // δb = δc·0.125·relu'(b)
        expect(hidden.bias!.grad!.data[0]).toBe(0); // a's pre-activation is -1: relu' = 0
        // ∂loss/∂w(input 3 → b) = δb·x3 = -0.5625
        expect(hidden.weight.grad!.data[2 * 2 + 1]).toBeCloseTo(-0.5625, 7);

        const before = hidden.weight.data[5];
        new SGD([...hidden.parameters(), ...out.parameters()], { lr: 0.1 }).step();
        expect(hidden.weight.data[5] - before).toBeCloseTo(0.05625, 7);
        expect(hidden.weight.data[5]).toBeCloseTo(0.30625, 7);
      });
    });

    test('the same net as nn.Sequential (fused Linear+ReLU kernels) gives c = 0.875', () => {
      onBackend(backend, () => {
        const { hidden, out } = buildNet();
        const net = new nn.Sequential(hidden, new nn.ReLU(), out, new nn.ReLU());
        expect(net.forward(tensor([[4, -8, 4]])).item()).toBeCloseTo(0.875, 7);
      });
    });
  });
}

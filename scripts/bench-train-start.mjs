// The shared starting point of bench-train's accuracy comparison: tensorforge's freshly initialized
// weights, written in PyTorch's layouts, and the sample order of every epoch. The PyTorch peer
// (bench-train-torch.py --start DIR) trains from exactly these, so the two accuracies differ by how the
// two libraries compute, not by which seed drew a luckier start (the seed spread of a 5-epoch MLP on
// Fashion-MNIST is about as wide as the 0.5-point tolerance).
//
// DIR/start.json  { n, epochs, params: [{ shape, offset }] }  shapes in PyTorch's layout, offsets in floats
// DIR/params.bin  float32, the parameters in PyTorch's state_dict order
// DIR/order.bin   int32, epochs × n: the sample indices of each epoch, batches taken in order
// (both in the machine's byte order: the two processes run on the same host)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How each of our parameters maps onto PyTorch's, in order. Ours: Linear weight [in, out], conv HWIO and
 * NHWC activations; PyTorch: Linear weight [out, in], conv OIHW and NCHW activations, so the first dense
 * layer after a conv stack also reorders its inputs from (h, w, c) to (c, h, w).
 */
const LAYOUTS = {
  mlp: ['linear', 'vector', 'linear', 'vector', 'linear', 'vector'],
  lenet: ['conv', 'vector', 'conv', 'vector', { linearAfter: [5, 5, 16] }, 'vector', 'linear', 'vector', 'linear', 'vector'],
};

/** One parameter's values in PyTorch's layout: [shape, Float32Array]. */
function toTorch(kind, shape, v) {
  if (kind === 'vector') return [shape, Float32Array.from(v)];
  if (kind === 'conv') {
    const [kh, kw, ci, co] = shape;
    const out = new Float32Array(v.length);
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
      out[((o * ci + i) * kh + y) * kw + x] = v[((y * kw + x) * ci + i) * co + o];
    }
    return [[co, ci, kh, kw], out];
  }
  const [inF, outF] = shape;
  // Row r of our weight is input feature r; in PyTorch's flatten of NCHW that feature sits at column col(r).
  let col = (r) => r;
  if (kind.linearAfter) {
    const [h, w, c] = kind.linearAfter;
    if (h * w * c !== inF) throw new Error(`bench-train start: ${h}x${w}x${c} features do not match a Linear of ${inF} inputs`);
    col = (r) => (r % c) * h * w + Math.floor(r / c);
  }
  const out = new Float32Array(v.length);
  for (let r = 0; r < inF; r++) for (let o = 0; o < outF; o++) out[o * inF + col(r)] = v[r * outF + o];
  return [[outF, inF], out];
}

/**
 * Writes the start of a run into `dir`: `model`'s current parameters (before fit) and the order a
 * shuffling DataLoader over n samples will draw from `twin` (a Generator seeded as the loader's own).
 */
export function writeStart(dir, { modelName, model, n, epochs, twin }) {
  const kinds = LAYOUTS[modelName];
  const params = model.parameters();
  if (!kinds || kinds.length !== params.length) throw new Error(`bench-train start: no PyTorch layout for ${modelName} with ${params.length} parameters`);
  const specs = [];
  const chunks = [];
  let offset = 0;
  params.forEach((p, i) => {
    const [shape, values] = toTorch(kinds[i], p.shape, p.data);
    specs.push({ shape, offset });
    chunks.push(values);
    offset += values.length;
  });
  const flat = new Float32Array(offset);
  chunks.forEach((c, i) => flat.set(c, specs[i].offset));
  const order = new Int32Array(epochs * n);
  for (let e = 0; e < epochs; e++) order.set(twin.permutation(n), e * n);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'params.bin'), new Uint8Array(flat.buffer));
  writeFileSync(join(dir, 'order.bin'), new Uint8Array(order.buffer));
  writeFileSync(join(dir, 'start.json'), JSON.stringify({ n, epochs, params: specs }));
}

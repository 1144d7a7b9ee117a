#!/usr/bin/python3
"""PyTorch peer of scripts/bench-train.mjs: trains one model at one thread count and prints one JSON line.

Same data (the IDX files, first --limit samples, pixels / 255), same models, same init family (PyTorch's
defaults, which tensorforge's layers follow), batch 64, Adam lr 1e-3, the sum-of-batches loss read with
.item() after every step (as fit does for its log). Timed: each epoch's training loop; inference: the test
set in batches of 256 under no_grad, best of --inference-repeats passes after a warm-up pass.
--onnx DIR also exports the trained model to DIR/<model>.onnx (dynamic batch axis) for onnxruntime-node.
--start DIR trains from the initial weights and the per-epoch sample order that tensorforge's run wrote there
(scripts/bench-train-start.mjs) instead of drawing its own, so the two accuracies compare like with like.

Run by scripts/bench-train.mjs; on its own:
    /usr/bin/python3 scripts/bench-train-torch.py --model mlp --threads 1 --data /usr/share/datasets/fashion-mnist
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """IDX (optionally gzip) -> numpy array of its shape; only the uint8 type is needed here."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f'{path}: not a uint8 IDX file')
    rank = raw[3]
    shape = struct.unpack('>' + 'I' * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + '.gz'):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise FileNotFoundError(f'{stem}[.gz] not found in {directory}')


def load(directory, limit, test_limit):
    def part(images, labels, n):
        x = read_idx(find(directory, images))[:n].astype(np.float32) / 255.0
        y = read_idx(find(directory, labels))[:n].astype(np.int64)
        return torch.from_numpy(x).reshape(-1, 1, 28, 28), torch.from_numpy(y)
    return part('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', limit or None), \
        part('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', test_limit or None)


def synthetic(n_train, n_test, seed):
    """The same recipe as the Node script's --synthetic: class-dependent blobs plus noise (not bit-identical)."""
    g = torch.Generator().manual_seed(seed)
    def make(n):
        y = torch.randint(0, 10, (n,), generator=g)
        x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
        for c in range(10):
            rows = y == c
            x[rows, 0, 2 * c + 2:2 * c + 6, 4:24] += 0.7
        return x, y
    return make(n_train), make(n_test)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


START_CHECK_SAMPLES = 256  # as in bench-train.mjs


def read_start(directory, model, n, epochs):
    """(parameter arrays, epochs x n order) from bench-train-start.mjs; refuses a start that does not fit."""
    with open(os.path.join(directory, 'start.json')) as f:
        spec = json.load(f)
    if spec['n'] != n or spec['epochs'] < epochs:
        raise ValueError(f"--start {directory}: written for {spec['n']} samples x {spec['epochs']} epochs, need {n} x {epochs}")
    flat = np.fromfile(os.path.join(directory, 'params.bin'), dtype=np.float32)
    params = list(model.parameters())
    if len(params) != len(spec['params']):
        raise ValueError(f"--start {directory}: {len(spec['params'])} parameters for a model with {len(params)}")
    values = []
    for p, s in zip(params, spec['params']):
        if list(p.shape) != s['shape']:
            raise ValueError(f"--start {directory}: parameter shape {s['shape']}, model has {list(p.shape)}")
        values.append(torch.from_numpy(flat[s['offset']:s['offset'] + p.numel()].reshape(s['shape']).copy()))
    order = np.fromfile(os.path.join(directory, 'order.bin'), dtype=np.int32).reshape(spec['epochs'], n)
    return values, torch.from_numpy(order.astype(np.int64))


def infer(model, x, batch):
    outs = [model(x[i:i + batch]) for i in range(0, x.shape[0], batch)]
    return torch.cat(outs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['mlp', 'lenet'], required=True)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--limit', type=int, default=0, help='first N training samples (0 = all)')
    p.add_argument('--test-limit', type=int, default=0, help='first N test samples (0 = all)')
    p.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--synthetic', action='store_true')
    p.add_argument('--seed', type=int, default=2026)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--inference-batch', type=int, default=256)
    p.add_argument('--inference-repeats', type=int, default=3)
    p.add_argument('--onnx', default='')
    p.add_argument('--start', default='', help='train from the start tensorforge wrote here (bench-train-start.mjs)')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.synthetic:
        (x_train, y_train), (x_test, y_test) = synthetic(a.limit or 2048, a.test_limit or 2048, 2026)  # fixed data; --seed only changes init and shuffling
    else:
        (x_train, y_train), (x_test, y_test) = load(a.data, a.limit, a.test_limit)
    model = mlp() if a.model == 'mlp' else lenet5()
    n = x_train.shape[0]
    orders = None
    start_loss = None  # the untrained model's loss on the first test images: tensorforge's, from the same start, must match
    if a.start:
        values, orders = read_start(a.start, model, n, a.epochs)
        with torch.no_grad():
            for p, v in zip(model.parameters(), values):
                p.copy_(v)
            k = min(START_CHECK_SAMPLES, x_test.shape[0])
            start_loss = F.cross_entropy(model(x_test[:k]).double(), y_test[:k]).item()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)

    epoch_rates = []
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(n) if orders is None else orders[epoch]
        started = time.perf_counter()
        loss_sum = 0.0
        for i in range(0, n, a.batch):
            idx = order[i:i + a.batch]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * xb.shape[0]
        epoch_rates.append(n / (time.perf_counter() - started))

    model.eval()
    with torch.no_grad():
        infer(model, x_test, a.inference_batch)  # warm-up
        best = 0.0
        logits = None
        for _ in range(a.inference_repeats):
            started = time.perf_counter()
            logits = infer(model, x_test, a.inference_batch)
            best = max(best, x_test.shape[0] / (time.perf_counter() - started))
    accuracy = (logits.argmax(1) == y_test).float().mean().item()

    result = {
        'framework': 'pytorch', 'version': torch.__version__, 'model': a.model, 'threads': a.threads,
        'trainSamples': n, 'testSamples': x_test.shape[0], 'epochRates': epoch_rates,
        'finalLoss': loss_sum / n, 'accuracy': accuracy, 'inferenceRate': best,
        'start': 'tensorforge' if a.start else 'own', 'startLoss': start_loss,
    }
    if a.onnx:
        try:
            os.makedirs(a.onnx, exist_ok=True)
            path = os.path.join(a.onnx, f'{a.model}.onnx')
            torch.onnx.export(model, x_test[:1], path, input_names=['x'], output_names=['logits'],
                              dynamic_axes={'x': {0: 'n'}, 'logits': {0: 'n'}}, opset_version=13)
            result['onnx'] = path
        except Exception as e:  # torch.onnx can be missing or fail on an old build: the ONNX peer is skipped
            result['onnxError'] = f'{type(e).__name__}: {e}'
    print(json.dumps(result))


if __name__ == '__main__':
    sys.exit(main())

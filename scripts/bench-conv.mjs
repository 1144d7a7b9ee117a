#!/usr/bin/env node
// Convolution and pooling benchmark (issue 4): milliseconds, effective GFLOP/s and the ratio against
// PyTorch measured in the same run, for forward, backward-input, backward-filter and the training sum,
// at 1 and 2 threads, on the cases. Plus the machine's FMA peak for the ">= 75% of peak" target.
//
//   node scripts/bench-conv.mjs [--addon path/to/tensorforge.node] [--threads 1,2] [--cases lenet1,resnet]
//                               [--min-ms 60] [--trials 3] [--no-torch] [--json] [--peak-from harness.cc]
//
// The addon defaults to $TENSORFORGE_ADDON_PATH, then build-cmake/, then build/Release/. PyTorch runs
// through /usr/bin/python3 (Debian's python3-torch) in its own process with torch.set_num_threads set
// to the same thread count; it is skipped with a note when absent. Each figure is the best of --trials
// timed trials, each repeating the call for at least --min-ms after a warm-up call (the best, because
// the machine may be shared: the minimum is the least disturbed run).
//
// Work counts: a convolution pass is 2·N·OH·OW·OC·KH·KW·C/groups flops (each of forward, backward-input
// and backward-filter does that many multiply-adds); a pooling pass counts one op per window element.
// "train" is the sum of the passes a training step runs: forward + backward-filter (+ bias) +
// backward-input, except for a network's first layer (LeNet conv1), whose input needs no gradient.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// --- options ---------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
function option(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}
const threadCounts = option('threads', '1,2').split(',').map(Number);
const minMs = Number(option('min-ms', '60'));
const trials = Number(option('trials', '3'));
// Case names as below; '1x1' is accepted for 'pointwise'.
const onlyCases = option('cases', '').split(',').filter(Boolean).map((n) => (n === '1x1' ? 'pointwise' : n));
const withTorch = !argv.includes('--no-torch');

// --- the cases -----------------------------------------------------------------------------
function convCase(name, label, n, h, w, c, k, oc, { stride = 1, pad = 0, groups = 1, firstLayer = false } = {}) {
  const out = (size) => Math.floor((size + 2 * pad - k) / stride) + 1;
  const args = {
    n, h, w, c, kh: k, kw: k, oc, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1,
    padTop: pad, padBottom: pad, padLeft: pad, padRight: pad, groups, oh: out(h), ow: out(w),
  };
  const flops = 2 * n * args.oh * args.ow * oc * k * k * (c / groups);
  return { kind: 'conv', name, label, args, flops, firstLayer };
}
function poolCase(name, label, type, n, h, w, c, k, stride, pad) {
  const out = (size) => Math.floor((size + 2 * pad - k) / stride) + 1;
  const args = {
    n, h, w, c, kh: k, kw: k, strideH: stride, strideW: stride,
    padTop: pad, padBottom: pad, padLeft: pad, padRight: pad, oh: out(h), ow: out(w),
  };
  return { kind: type, name, label, args, flops: n * args.oh * args.ow * c * k * k };
}
const allCases = [
  convCase('lenet1', 'LeNet conv1 64x28x28x1 -> 6, 5x5 pad 2', 64, 28, 28, 1, 5, 6, { pad: 2, firstLayer: true }),
  convCase('lenet2', 'LeNet conv2 64x14x14x6 -> 16, 5x5', 64, 14, 14, 6, 5, 16),
  convCase('resnet', 'ResNet 3x3 32x56x56x64 -> 64, pad 1', 32, 56, 56, 64, 3, 64, { pad: 1 }),
  convCase('pointwise', '1x1 32x28x28x128 -> 256', 32, 28, 28, 128, 1, 256),
  convCase('depthwise', 'depthwise 3x3 32x56x56x64, groups 64', 32, 56, 56, 64, 3, 64, { pad: 1, groups: 64 }),
  convCase('strided', 'strided 3x3 s2 32x56x56x64 -> 128, pad 1', 32, 56, 56, 64, 3, 128, { stride: 2, pad: 1 }),
  poolCase('maxpool', 'max pool 2x2 s2 64x28x28x32', 'maxpool', 64, 28, 28, 32, 2, 2, 0),
  poolCase('avgpool', 'avg pool 3x3 s1 pad 1 32x56x56x64', 'avgpool', 32, 56, 56, 64, 3, 1, 1),
];
const cases = onlyCases.length ? allCases.filter((c) => onlyCases.includes(c.name)) : allCases;

// --- tensorforge -----------------------------------------------------------------------------------
function addonPath() {
  if (!option('addon', '') && !process.env.TENSORFORGE_ADDON_PATH) {
    // build-cmake is preferred below, so bring it up to date first (incremental): a stale one would
    // measure old kernels without saying so. Without CMake, build/Release is used as it is.
    const cmake = (args) => spawnSync('cmake', args, { cwd: root, stdio: 'inherit' });
    const configured = cmake(['-S', root, '-B', path.join(root, 'build-cmake'), '-DCMAKE_BUILD_TYPE=Release']);
    if (!configured.error && configured.status === 0) cmake(['--build', path.join(root, 'build-cmake'), '-j2']);
  }
  const candidates = [
    option('addon', ''), process.env.TENSORFORGE_ADDON_PATH ?? '',
    path.join(root, 'build-cmake', 'tensorforge.node'), path.join(root, 'build', 'Release', 'tensorforge.node'),
  ];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('bench-conv: no addon found; build it first (see README) or pass --addon');
  return path.resolve(found);
}
const addonFile = addonPath();
const addon = createRequire(import.meta.url)(addonFile);

function filled(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

// Best-of-trials milliseconds of one call of fn.
function time(fn) {
  fn();
  let best = Infinity;
  for (let t = 0; t < trials; ++t) {
    let reps = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    do {
      fn();
      ++reps;
      elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    } while (elapsed < minMs);
    best = Math.min(best, elapsed / reps);
  }
  return best;
}

function ours(c) {
  const a = c.args;
  const xs = a.n * a.h * a.w * a.c;
  if (c.kind === 'conv') {
    const ws = a.kh * a.kw * (a.c / a.groups) * a.oc;
    const ys = a.n * a.oh * a.ow * a.oc;
    const x = filled(xs, 1), w = filled(ws, 2), bias = filled(a.oc, 3), y = new Float32Array(ys);
    const dy = filled(ys, 4), dx = new Float32Array(xs), dw = new Float32Array(ws), db = new Float32Array(a.oc);
    const none = { activation: 'none', alpha: 0 };
    return {
      fwd: time(() => addon.conv2d(a, none, x, w, bias, y)),
      bwdInput: time(() => addon.conv2dBackwardInput(a, dx, dy, w)),
      bwdFilter: time(() => addon.conv2dBackwardFilter(a, dw, db, dy, x)),
    };
  }
  const ys = a.n * a.oh * a.ow * a.c;
  const x = filled(xs, 1), y = new Float32Array(ys), dy = filled(ys, 4), dx = new Float32Array(xs);
  if (c.kind === 'maxpool') {
    return { fwd: time(() => addon.maxPool2d(a, x, y)), bwd: time(() => addon.maxPool2dBackward(a, dx, dy, x)) };
  }
  return { fwd: time(() => addon.avgPool2d(a, true, x, y)), bwd: time(() => addon.avgPool2dBackward(a, true, dx, dy)) };
}

// --- PyTorch, in its own process -------------------------------------------------------------------
// Forward and each backward pass timed separately through aten.convolution_backward's output mask.
// PyTorch runs in its best layout: the faster of NCHW (contiguous) and channels_last, per pass.
const torchScript = String.raw`
import json, sys, time, torch
import torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.manual_seed(0)
def bench(fn):
    fn()
    best = float('inf')
    for _ in range(cfg['trials']):
        reps, start = 0, time.perf_counter()
        while True:
            fn(); reps += 1
            el = (time.perf_counter() - start) * 1e3
            if el >= cfg['minMs']: break
        best = min(best, el / reps)
    return best
out = {}
with torch.no_grad():
    for t in cfg['threads']:
        torch.set_num_threads(t)
        for c in cfg['cases']:
            a = c['args']
            res = {}
            for fmt in (torch.contiguous_format, torch.channels_last):
                x = torch.randn(a['n'], a['c'], a['h'], a['w']).to(memory_format=fmt)
                if c['kind'] == 'conv':
                    g = a['groups']
                    w = torch.randn(a['oc'], a['c'] // g, a['kh'], a['kw']).to(memory_format=fmt)
                    b = torch.randn(a['oc'])
                    st, pd = (a['strideH'], a['strideW']), (a['padTop'], a['padLeft'])
                    dy = torch.randn(a['n'], a['oc'], a['oh'], a['ow']).to(memory_format=fmt)
                    bw = torch.ops.aten.convolution_backward
                    r = {
                        'fwd': bench(lambda: F.conv2d(x, w, b, st, pd, 1, g)),
                        'bwdInput': bench(lambda: bw(dy, x, w, [a['oc']], st, pd, [1, 1], False, [0, 0], g, [True, False, False])),
                        'bwdFilter': bench(lambda: bw(dy, x, w, [a['oc']], st, pd, [1, 1], False, [0, 0], g, [False, True, True])),
                    }
                else:
                    k, st, pd = (a['kh'], a['kw']), (a['strideH'], a['strideW']), (a['padTop'], a['padLeft'])
                    dy = torch.randn(a['n'], a['c'], a['oh'], a['ow']).to(memory_format=fmt)
                    if c['kind'] == 'maxpool':
                        _, idx = F.max_pool2d(x, k, st, pd, return_indices=True)
                        r = {'fwd': bench(lambda: F.max_pool2d(x, k, st, pd)),
                             'bwd': bench(lambda: torch.ops.aten.max_pool2d_with_indices_backward(dy, x, k, st, pd, [1, 1], False, idx))}
                    else:
                        r = {'fwd': bench(lambda: F.avg_pool2d(x, k, st, pd, False, True)),
                             'bwd': bench(lambda: torch.ops.aten.avg_pool2d_backward(dy, x, k, st, pd, False, True, None))}
                for key, v in r.items():
                    res[key] = min(res.get(key, float('inf')), v)
            out[f"{c['name']}@{t}"] = res
print(json.dumps({'version': torch.__version__, 'results': out}))
`;

function torchResults() {
  if (!withTorch) return { note: 'PyTorch skipped (--no-torch)' };
  const python = '/usr/bin/python3';
  const probe = existsSync(python) ? spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }) : null;
  if (!probe || probe.status !== 0) {
    return { note: 'PyTorch not measured: /usr/bin/python3 with torch not found (apt-get install python3-torch)' };
  }
  const cfg = { threads: threadCounts, minMs, trials, cases: cases.map(({ name, kind, args }) => ({ name, kind, args })) };
  const text = execFileSync(python, ['-c', torchScript, JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(text);
}

// --- FMA peak (the GEMM family's harness, when this tree has it) -------------------------------------
// scripts/bench-gemm-harness.cc (GEMM family) has a `peak` mode; it is compiled here against the CMake
// build's kernel library (--peak-from names another copy of that file). Without it, the peak is
// reported as unmeasured.
function fmaPeak() {
  const harness = option('peak-from', path.join(root, 'scripts', 'bench-gemm-harness.cc'));
  const lib = path.join(root, 'build-cmake', 'libtf_kernels.a');
  if (!existsSync(harness) || !existsSync(lib)) return { note: 'FMA peak not measured (needs scripts/bench-gemm-harness.cc and build-cmake)' };
  const exe = path.join(mkdtempSync(path.join(tmpdir(), 'bench-conv-')), 'harness');
  execFileSync('c++', ['-O2', '-std=c++17', '-DTF_BENCH_OURS', `-I${path.join(root, 'native')}`, harness, lib, '-lpthread', '-o', exe]);
  const peaks = {};
  for (const t of threadCounts) peaks[t] = JSON.parse(execFileSync(exe, ['peak', '--threads', String(t)], { encoding: 'utf8' }));
  return { peaks };
}

// --- run and print ---------------------------------------------------------------------------------
const results = {};
for (const t of threadCounts) {
  addon.setNumThreads(t);
  for (const c of cases) results[`${c.name}@${t}`] = ours(c);
}
const torch = torchResults();
const peak = fmaPeak();
const info = addon.backendInfo();

const passesOf = (c) => (c.kind === 'conv' ? ['fwd', 'bwdInput', 'bwdFilter'] : ['fwd', 'bwd']);
const trainOf = (c, r) => passesOf(c).filter((p) => !(c.firstLayer && p === 'bwdInput')).reduce((s, p) => s + r[p], 0);

const rows = [];
for (const t of threadCounts) {
  for (const c of cases) {
    const r = results[`${c.name}@${t}`];
    const tr = torch.results?.[`${c.name}@${t}`];
    for (const p of [...passesOf(c), 'train']) {
      const ms = p === 'train' ? trainOf(c, r) : r[p];
      const passes = p === 'train' ? passesOf(c).filter((q) => !(c.firstLayer && q === 'bwdInput')).length : 1;
      const torchMs = tr ? (p === 'train' ? trainOf(c, tr) : tr[p]) : undefined;
      rows.push({
        threads: t, case: c.label, pass: p, ms, gflops: (passes * c.flops) / ms / 1e6,
        torchMs, ratio: torchMs !== undefined ? torchMs / ms : undefined,
      });
    }
  }
}

if (argv.includes('--json')) {
  console.log(JSON.stringify({ addon: addonFile, info, torch: { version: torch.version, note: torch.note }, peak, rows }, null, 1));
} else {
  console.log(`addon ${addonFile}  isa ${info.isa}  min ${minMs} ms x best of ${trials}`);
  console.log(torch.version ? `PyTorch ${torch.version} (best of NCHW and channels_last)` : torch.note);
  if (peak.peaks) {
    for (const [t, p] of Object.entries(peak.peaks)) console.log(`FMA peak ${t} thread(s): avx512 ${p.avx512.toFixed(1)} GFLOP/s, avx2 ${p.avx2.toFixed(1)} GFLOP/s`);
  } else {
    console.log(peak.note);
  }
  const pad = (s, n) => String(s).padStart(n);
  console.log(`${'thr'.padEnd(4)}${'case'.padEnd(44)}${'pass'.padEnd(10)}${pad('ms', 9)}${pad('GFLOP/s', 9)}${pad('torch ms', 10)}${pad('x torch', 9)}`);
  for (const r of rows) {
    console.log(`${String(r.threads).padEnd(4)}${r.case.padEnd(44)}${r.pass.padEnd(10)}${pad(r.ms.toFixed(3), 9)}` +
      `${pad(r.gflops.toFixed(1), 9)}${pad(r.torchMs !== undefined ? r.torchMs.toFixed(3) : '-', 10)}` +
      `${pad(r.ratio !== undefined ? r.ratio.toFixed(2) : '-', 9)}`);
  }
}

// GEMM benchmark: tensorforge's kernel (C++ alone and through the addon's `matmul` from JS) against
// OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm measured in the same run, and against the machine's FMA
// peak (a microbenchmark of independent FMA chains per ISA). Prints GFLOP/s and ratios.
//
//   scripts/bench-gemm [--threads 1,2] [--rounds 2] [--trials 3] [--min-ms 25] [--quick] [--json out.json]
//
// Needs the CMake build (build-cmake/libtf_kernels.a and tensorforge.node), brought up to date here first.
// Peers are compiled from scripts/bench-gemm-harness.cc when their headers and libraries are present
// (Debian/Ubuntu: apt-get install libopenblas-dev libdnnl-dev); a missing one is skipped with a note.
// Each implementation runs in its own process with its thread count set explicitly:
//   ours      set_num_threads(T) (and TENSORFORGE_NUM_THREADS=T)
//   OpenBLAS  OPENBLAS_NUM_THREADS=T and openblas_set_num_threads(T)
//   oneDNN    OMP_NUM_THREADS=T (the Debian build uses the OpenMP runtime)
// The host may be shared: every figure is the best of `rounds` processes x `trials` timed runs. Our C++
// kernel and our JS call alternate round by round (JS/C++ compares like with like); the JS call's fixed
// cost is also measured on its own, as the time of a 1x1x1 matmul, and printed as a share of the
// (64,784,256) kernel.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build-cmake');
const benchDir = join(buildDir, 'bench-gemm');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const quick = process.argv.includes('--quick');
const threadCounts = option('threads', '1,2').split(',').map(Number);
const rounds = Number(option('rounds', quick ? '1' : '2'));
const trials = Number(option('trials', quick ? '2' : '3'));
const minMs = Number(option('min-ms', quick ? '15' : '25'));
const jsonOut = option('json', '');

// --- shapes --------------------------------------------------------------------------------------
// Training shapes are (M,K,N) as in ISSUE 3: forward x[M,K]·W[K,N]; "tA" stores A as [K,M] (the
// weight gradient xᵀ·dy), "tB" stores B as [N,K] (the input gradient dy·Wᵀ).
const squares = [64, 128, 256, 512, 1024, 2048].map((s) => ({ m: s, n: s, k: s, ta: 0, tb: 0 }));
const training = [];
for (const [m, k, n] of [[64, 784, 256], [64, 256, 128], [256, 4096, 1024], [64, 256, 784]]) {
  for (const [ta, tb] of [[0, 0], [1, 0], [0, 1]]) training.push({ m, n, k, ta, tb });
}
const shapes = [...squares, ...training];
const key = (s) => `${s.m},${s.n},${s.k},${s.ta},${s.tb}`;
const labelOf = (s) =>
  s.m === s.n && s.n === s.k && !s.ta && !s.tb
    ? `${s.m}³`
    : `(M,K,N)=(${s.m},${s.k},${s.n})${s.ta ? ' tA' : ''}${s.tb ? ' tB' : ''}`;

// --- build ---------------------------------------------------------------------------------------
function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
}

// Always brought up to date (incremental: quick when nothing changed): a stale build-cmake would
// measure old kernels without saying so.
{
  console.log('bench-gemm: bringing build-cmake up to date (Release, -j2) ...');
  for (const args of [['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'], ['--build', buildDir, '-j2']]) {
    const r = run('cmake', args, { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('bench-gemm: the CMake build failed');
      process.exit(1);
    }
  }
}
mkdirSync(benchDir, { recursive: true });

const cxx = process.env.CXX || 'g++';
const harness = join(root, 'scripts', 'bench-gemm-harness.cc');
const builds = [
  {
    lib: 'ours', name: 'tensorforge',
    flags: ['-DTF_BENCH_OURS', `-I${join(root, 'native')}`,
      join(buildDir, 'libtf_kernels.a'), '-pthread'],
    note: '',
  },
  {
    lib: 'openblas', name: 'OpenBLAS',
    flags: ['-DTF_BENCH_OPENBLAS', '-I/usr/include/openblas', '-I/usr/include/x86_64-linux-gnu', '-I/usr/include/aarch64-linux-gnu', '-lopenblas'],
    note: 'libopenblas-dev not installed (apt-get install libopenblas-dev)',
  },
  {
    lib: 'onednn', name: 'oneDNN',
    flags: ['-DTF_BENCH_DNNL', '-ldnnl'],
    note: 'libdnnl-dev not installed (apt-get install libdnnl-dev)',
  },
];
const binaries = {};
for (const b of builds) {
  const out = join(benchDir, `harness-${b.lib}`);
  const r = run(cxx, ['-O2', '-std=c++17', harness, '-o', out, ...b.flags]);
  if (r.status === 0) {
    binaries[b.lib] = out;
  } else if (b.lib === 'ours') {
    console.error(`bench-gemm: cannot build the harness:\n${r.stderr}`);
    process.exit(1);
  } else {
    console.log(`bench-gemm: skipping ${b.name}: ${b.note}`);
  }
}

// --- measure -------------------------------------------------------------------------------------
function harnessRun(lib, mode, threads, env, list) {
  const args = [mode, '--threads', String(threads), '--trials', String(trials), '--min-ms', String(minMs),
    ...list.map(key)];
  const r = run(binaries[lib], args, {
    env: {
      ...process.env, ...env,
      TENSORFORGE_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads),
    },
  });
  if (r.status !== 0) throw new Error(`${lib} ${mode} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// Best figure per shape over `rounds` processes; afterRound() runs after each (see measureOursAndJs).
function measure(lib, threads, env, list, afterRound = () => {}) {
  const best = new Map();
  let detail = '';
  for (let r = 0; r < rounds; r++) {
    for (const rec of harnessRun(lib, 'gemm', threads, env, list)) {
      if (rec.detail) detail = rec.detail;
      if (rec.gflops === undefined) continue;
      const k = key(rec);
      best.set(k, Math.max(best.get(k) ?? 0, rec.gflops));
    }
    afterRound();
  }
  return { best, detail };
}

// The public API path: the addon's matmul called from JS, timed like the harness.
const require = createRequire(import.meta.url);
const addonPath = process.env.TENSORFORGE_ADDON_PATH || join(buildDir, 'tensorforge.node');
const addon = require(addonPath);

// A Float32Array as the library allocates tensor storage (lib/backend/alloc.ts): from a 64-byte
// boundary. `plain`: a bare `new Float32Array`, which for buffers this big starts 16 bytes past one
// (V8 takes the memory from malloc), as a caller's own arrays passed to the addon may.
function jsArray(n, plain) {
  if (plain || typeof addon.alignOffset !== 'function') return new Float32Array(n);
  const buffer = new ArrayBuffer(n * 4 + 64);
  return new Float32Array(buffer, addon.alignOffset(buffer), n);
}

// One round: `trials` timed trials per shape; the best GFLOP/s per shape goes into `best`.
function measureJsRound(threads, list, best, plain = false) {
  addon.setNumThreads(threads);
  for (const s of list) {
    const a = jsArray(s.m * s.k, plain);
    const b = jsArray(s.k * s.n, plain);
    const c = jsArray(s.m * s.n, plain);
    // Filled in place: TypedArray.map would return a new, plainly allocated array.
    for (let i = 0; i < a.length; i++) a[i] = ((i * 7) % 13 - 6) * 0.1;
    for (let i = 0; i < b.length; i++) b[i] = ((i * 5) % 11 - 5) * 0.1;
    const args = { m: s.m, n: s.n, k: s.k, transA: !!s.ta, transB: !!s.tb, accumulate: false, activation: 'none', alpha: 0 };
    addon.matmul(args, a, b, null, c);
    const flop = 2 * s.m * s.n * s.k;
    let g = best.get(key(s)) ?? 0;
    for (let t = 0; t < trials; t++) {
      let reps = 0;
      const t0 = process.hrtime.bigint();
      let dt = 0;
      do {
        addon.matmul(args, a, b, null, c);
        reps++;
        dt = Number(process.hrtime.bigint() - t0) * 1e-9;
      } while (dt < minMs * 1e-3);
      g = Math.max(g, (flop * reps) / dt * 1e-9);
    }
    best.set(key(s), g);
  }
}

// The C++ kernel (a harness process) and the JS call, round by round in alternation, so that both
// figures come from the same stretches of the host's (noisy, shared) time; best of the rounds each.
function measureOursAndJs(threads, list, plainList) {
  const js = new Map();
  const jsPlain = new Map();
  const ours = measure('ours', threads, {}, list, () => {
    measureJsRound(threads, list, js);
    measureJsRound(threads, plainList, jsPlain, true);
  });
  return { ours, js, jsPlain };
}

// The fixed cost of one call through the addon (argument parsing, buffer checks, dispatch) in µs: a
// 1x1x1 matmul, whose arithmetic is nothing. Best of 5 runs of 100k calls.
function callOverheadUs(threads) {
  addon.setNumThreads(threads);
  const args = { m: 1, n: 1, k: 1, transA: false, transB: false, accumulate: false, activation: 'none', alpha: 0 };
  const a = new Float32Array(1), b = new Float32Array(1), c = new Float32Array(1);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100000; i++) addon.matmul(args, a, b, null, c);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / 100000);
  }
  return best;
}

function peak(threads) {
  let p = { avx512: 0, avx2: 0 };
  for (let r = 0; r < rounds; r++) {
    const rec = harnessRun('ours', 'peak', threads, {}, [])[0];
    p = { avx512: Math.max(p.avx512, rec.avx512), avx2: Math.max(p.avx2, rec.avx2) };
  }
  return p;
}

const info = addon.backendInfo();
const results = { date: new Date().toISOString(), isa: info.isa, threads: {} };
const fmt = (x) => (x > 0 ? x.toFixed(1) : '—');
const ratio = (x, y) => (x > 0 && y > 0 ? (x / y).toFixed(2) : '—');

for (const threads of threadCounts) {
  const pk = peak(threads);
  const trainingShapes = shapes.filter((s) => !squares.includes(s));
  const { ours, js, jsPlain } = measureOursAndJs(threads, shapes, trainingShapes);
  const oursAvx2 = info.availableIsas.includes('avx2') ? measure('ours', threads, { TENSORFORGE_ISA: 'avx2' }, squares) : null;
  const peers = {};
  for (const lib of ['openblas', 'onednn']) if (binaries[lib]) peers[lib] = measure(lib, threads, {}, shapes);

  console.log(`\n## ${threads} thread${threads > 1 ? 's' : ''} — ${ours.detail}; FMA peak: avx512 ${fmt(pk.avx512)}, avx2 ${fmt(pk.avx2)} GFLOP/s`);
  for (const lib of Object.keys(peers)) console.log(`   ${lib}: ${peers[lib].detail}`);
  const head = ['shape', 'ours C++', 'ours JS', 'JS/C++', 'OpenBLAS', 'oneDNN', 'ours/best peer', 'ours/peak'];
  const rows = [head];
  const rec = {};
  for (const s of shapes) {
    const k = key(s);
    const o = ours.best.get(k) ?? 0;
    const j = js.get(k) ?? 0;
    const ob = peers.openblas?.best.get(k) ?? 0;
    const dn = peers.onednn?.best.get(k) ?? 0;
    const bestPeer = Math.max(ob, dn);
    rows.push([labelOf(s), fmt(o), fmt(j), ratio(j, o), fmt(ob), fmt(dn), ratio(o, bestPeer), ratio(o, pk.avx512 || pk.avx2)]);
    rec[k] = { ours: o, js: j, openblas: ob, onednn: dn, ...(jsPlain.has(k) ? { jsPlain: jsPlain.get(k) } : {}) };
  }
  const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
  console.log('\nJS with arrays 16 bytes past a 64-byte boundary (a bare `new Float32Array`; the library starts '
    + 'its tensors on one), GFLOP/s and ratio to the JS column:');
  console.log(trainingShapes.map((s) => `${labelOf(s).replace('(M,K,N)=', '')} ${fmt(jsPlain.get(key(s)))} (${ratio(jsPlain.get(key(s)), js.get(key(s)))})`).join(' · '));
  const overhead = callOverheadUs(threads);
  const mlpShape = shapes.find((x) => x.m === 64 && x.k === 784 && x.n === 256 && !x.ta && !x.tb);
  if (mlpShape && ours.best.get(key(mlpShape))) {
    const kernelUs = (2 * 64 * 784 * 256) / (ours.best.get(key(mlpShape)) * 1e3);
    console.log(`\nJS call overhead (a 1x1x1 matmul through the addon): ${overhead.toFixed(2)} µs per call = `
      + `${(100 * overhead / kernelUs).toFixed(1)} % of the (64,784,256) kernel (${kernelUs.toFixed(0)} µs in C++)`);
  }
  if (oursAvx2) {
    console.log(`\nAVX2 path (TENSORFORGE_ISA=avx2), ${threads} thread(s): GFLOP/s and fraction of the AVX2 FMA peak (${fmt(pk.avx2)})`);
    console.log(squares.map((s) => `${labelOf(s)} ${fmt(oursAvx2.best.get(key(s)))} (${ratio(oursAvx2.best.get(key(s)), pk.avx2)})`).join(' · '));
  }
  results.threads[threads] = {
    peak: pk, rows: rec, callOverheadUs: overhead,
    avx2: oursAvx2 ? Object.fromEntries(squares.map((s) => [key(s), oursAvx2.best.get(key(s))])) : null,
    details: { ours: ours.detail, ...Object.fromEntries(Object.entries(peers).map(([l, p]) => [l, p.detail])) },
  };
}

if (threadCounts.includes(1) && threadCounts.includes(2)) {
  console.log('\n2-thread speed-up over 1 thread (ours C++):');
  console.log(shapes.filter((s) => s.m * s.n * s.k >= 512 ** 3 || !squares.includes(s)).map((s) => {
    const one = results.threads[1].rows[key(s)].ours, two = results.threads[2].rows[key(s)].ours;
    return `${labelOf(s)} ${ratio(two, one)}x`;
  }).join(' · '));
}
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  console.log(`\nwrote ${jsonOut}`);
}

// Hostile or damaged model directories: each must be refused with an error that names the file and
// the problem, and no file may ever make code run.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as io from '../../lib/io/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';
import * as nn from '../../lib/nn/index.js';
import * as optim from '../../lib/optim/index.js';
import { readManifest, replaceWeights, tempDir, weightsPath, writeManifest } from './helpers.js';

function savedModel(withOptimizer = false): string {
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.BatchNorm1d(4), new nn.Linear(4, 2));
  const dir = tempDir('tf-hostile-');
  const opt = new optim.Adam(model.parameters());
  if (withOptimizer) {
    for (const p of model.parameters()) p.grad = p.clone();
    opt.step();
  }
  io.save(model, dir, withOptimizer ? { optimizer: opt } : {});
  return dir;
}

/** The weights file re-encoded after `edit` changes its tensors (hash fixed in the manifest). */
function rewriteTensors(dir: string, edit: (t: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }>) => void): void {
  const tensors = { ...decodeSafetensors(readFileSync(weightsPath(dir))).tensors };
  edit(tensors);
  replaceWeights(dir, encodeSafetensors(tensors));
}

function expectLoadError(dir: string, file: string, pattern: RegExp): void {
  let error: unknown;
  try {
    io.load(dir);
  } catch (e) {
    error = e;
  }
  expect(error, 'io.load must throw').toBeInstanceOf(RangeError);
  const message = (error as Error).message;
  expect(message).toContain(join(dir, file === 'weights' ? readManifest(dir).weights.file : file));
  expect(message).toMatch(pattern);
}

describe('hostile weights files', () => {
  test('truncated weights: the SHA-256 check refuses them', () => {
    const dir = savedModel();
    const path = weightsPath(dir);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 5));
    expectLoadError(dir, 'weights', /SHA-256 .* does not match .* in model.json \(the file was changed or damaged\)/);
  });

  test('truncated weights with a matching hash: the safetensors check refuses them', () => {
    const dir = savedModel();
    const bytes = readFileSync(weightsPath(dir));
    replaceWeights(dir, bytes.subarray(0, bytes.length - 5));
    expectLoadError(dir, 'weights', /not a valid safetensors file: the tensors cover \d+ data bytes but the file holds \d+/);
  });

  test('tampered header (a span moved) is refused', () => {
    const dir = savedModel();
    const bytes = Buffer.from(readFileSync(weightsPath(dir)));
    const text = bytes.toString('latin1');
    const tampered = Buffer.from(text.replace('"data_offsets":[0,', '"data_offsets":[4,'), 'latin1');
    expect(tampered.equals(bytes)).toBe(false);
    replaceWeights(dir, tampered);
    expectLoadError(dir, 'weights', /not a valid safetensors file: tensor '0.weight' spans/);
  });

  test('header length pointing past the end is refused', () => {
    const dir = savedModel();
    const bytes = Buffer.from(readFileSync(weightsPath(dir)));
    bytes.writeBigUInt64LE(1n << 40n, 0);
    replaceWeights(dir, bytes);
    expectLoadError(dir, 'weights', /header length \d+ runs past the end/);
  });

  test('wrong shape is refused, naming the tensor and both shapes', () => {
    const dir = savedModel();
    rewriteTensors(dir, (t) => {
      t['3.weight'] = { dtype: 'F32', shape: [2, 4], data: new Float32Array(8) };
    });
    expectLoadError(dir, 'weights', /tensor '3.weight' has shape \[2,4\], the model needs \[4,2\]/);
  });

  test('wrong dtype is refused', () => {
    const dir = savedModel();
    rewriteTensors(dir, (t) => {
      t['2.runningMean'] = { dtype: 'I32', shape: [4], data: new Int32Array(4) };
    });
    expectLoadError(dir, 'weights', /tensor '2.runningMean' is I32, the model needs F32/);
  });

  test('missing tensor is refused', () => {
    const dir = savedModel();
    rewriteTensors(dir, (t) => {
      delete t['0.bias'];
    });
    expectLoadError(dir, 'weights', /missing tensor '0.bias' \(float32 \[4\]\)/);
  });

  test('extra tensor is refused', () => {
    const dir = savedModel();
    rewriteTensors(dir, (t) => {
      t['9.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    });
    expectLoadError(dir, 'weights', /unexpected tensor '9.weight'/);
  });

  test('a missing weights file is refused', () => {
    const dir = savedModel();
    rmSync(weightsPath(dir));
    expectLoadError(dir, 'weights', /cannot read the weights file named by model.json/);
  });
});

describe('hostile manifests', () => {
  function withManifest(edit: (m: Record<string, any>) => void): string {
    const dir = savedModel(true);
    const m = readManifest(dir);
    edit(m);
    writeManifest(dir, m);
    return dir;
  }

  test('unknown class name is refused (never looked up anywhere but the registry)', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[1].class = 'child_process';
    });
    expectLoadError(dir, 'model.json', /architecture.config.layers\[1\] has unknown module class "child_process"/);
  });

  test('a class name that is an Object method is unknown too', () => {
    const dir = withManifest((m) => {
      m.architecture.class = 'toString';
    });
    expectLoadError(dir, 'model.json', /unknown module class "toString"/);
  });

  test('future format version is refused', () => {
    const dir = withManifest((m) => {
      m.formatVersion = 2;
    });
    expectLoadError(dir, 'model.json', /format version 2 was written by a newer tensorforge; this version reads up to 1/);
  });

  test('not a tensorforge manifest', () => {
    const dir = withManifest((m) => {
      m.format = 'keras';
    });
    expectLoadError(dir, 'model.json', /not a tensorforge model manifest \('format' is "keras"/);
  });

  test.each([
    ['top level', '{"__proto__": {"polluted": true}, '],
    ['inside a config', null],
  ])('JSON with __proto__ keys (%s) is refused and pollutes nothing', (_where, prefix) => {
    const dir = savedModel();
    const path = join(dir, 'model.json');
    const text = readFileSync(path, 'utf8');
    const hostile = prefix !== null
      ? text.replace(/^\{/, prefix)
      : text.replace('"inFeatures":', '"__proto__": {"inFeatures": 99}, "inFeatures":');
    expect(hostile).not.toBe(text);
    writeFileSync(path, hostile);
    expectLoadError(dir, 'model.json', /forbidden key '__proto__'/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('constructor / prototype keys are refused as well', () => {
    const dir = withManifest((m) => {
      m.architecture.config.constructor = { name: 'x' };
    });
    expectLoadError(dir, 'model.json', /forbidden key 'constructor' at architecture.config.constructor/);
  });

  test('a config field of the wrong type is refused with its path', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[0].config.inFeatures = '3';
    });
    expectLoadError(dir, 'model.json', /architecture.config.layers\[0\].config \(Linear\): 'inFeatures' must be an integer >= 1, got the string "3"/);
  });

  test('an unexpected config field is refused', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[2].config.extra = 1;
    });
    expectLoadError(dir, 'model.json', /layers\[2\].config \(BatchNorm1d\): unexpected field 'extra'/);
  });

  test('a config the constructor refuses is reported with its place', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[2].config.momentum = 7;
    });
    expectLoadError(dir, 'model.json', /layers\[2\].config \(BatchNorm1d\): BatchNorm1d: momentum must be in \[0, 1\]/);
  });

  test('a changed architecture no longer matches the weights', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[3].config.outFeatures = 3;
    });
    expectLoadError(dir, 'weights', /tensor '3.weight' has shape \[4,2\], the model needs \[4,3\]; tensor '3.bias' has shape \[2\], the model needs \[3\]/);
  });

  test('a config asking for a huge layer is refused before allocating it', () => {
    const dir = withManifest((m) => {
      m.architecture.config.layers[0].config.outFeatures = 2 ** 30;
    });
    expectLoadError(dir, 'model.json', /architecture.config.layers\[0\] \(Linear\) needs more parameter and buffer values than the weights hold/);
  });

  test('a weights file name that leaves the directory is refused', () => {
    const dir = withManifest((m) => {
      m.weights.file = '../../etc/passwd';
    });
    expectLoadError(dir, 'model.json', /'file' must be a weights-<16 hex>.safetensors name, got "..\/..\/etc\/passwd"/);
  });

  test('frozen / trainingExceptions naming things that do not exist are refused', () => {
    let dir = withManifest((m) => {
      m.frozen = ['7.weight'];
    });
    expectLoadError(dir, 'model.json', /frozen names '7.weight', which is not a parameter/);
    dir = withManifest((m) => {
      m.trainingExceptions = ['0.0'];
    });
    expectLoadError(dir, 'model.json', /trainingExceptions names '0.0', which is not a module/);
  });

  test('an unknown top-level field is refused', () => {
    const dir = withManifest((m) => {
      m.hooks = ['require("fs")'];
    });
    expectLoadError(dir, 'model.json', /unexpected field 'hooks'/);
  });

  test('deeply nested JSON is refused, not a stack overflow', () => {
    const dir = savedModel();
    let node = '{"class":"Identity","config":{}}';
    for (let i = 0; i < 400; i++) node = `{"class":"Sequential","config":{"layers":[${node}]}}`;
    const m = readManifest(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m).replace(/"architecture":.*?,"training"/, `"architecture":${node},"training"`));
    expectLoadError(dir, 'model.json', /nesting deeper than 256 levels/);
  });

  test('not JSON at all', () => {
    const dir = savedModel();
    writeFileSync(join(dir, 'model.json'), '{"format": "tensorforge-model", ');
    expectLoadError(dir, 'model.json', /not valid JSON/);
  });

  test('a directory without model.json', () => {
    const dir = tempDir();
    expect(() => io.load(dir)).toThrow(/io.load: .*model.json: cannot read the model manifest/);
  });

  test('optimizer state: bad hyperparameter, steps and state tensors are refused', () => {
    let dir = withManifest((m) => {
      m.optimizer.groups[0].hyper.lr = 'fast';
    });
    expectLoadError(dir, 'model.json', /optimizer.groups\[0\]: hyperparameter 'lr' must be a number, a boolean or an array of numbers/);
    dir = withManifest((m) => {
      m.optimizer.groups[0].steps.pop();
    });
    expectLoadError(dir, 'model.json', /'steps' has 5 entries for 6 parameters/);
    dir = withManifest((m) => {
      m.optimizer.groups[0].params[0] = 'nope';
    });
    expectLoadError(dir, 'model.json', /'nope' is not a parameter of the model/);
    dir = withManifest((m) => {
      m.optimizer.groups[0].buffers.push('velocity');
    });
    const manifest = readManifest(dir);
    expectLoadError(dir, manifest.optimizer.file, /missing optimizer state tensor '0.velocity'/);
  });
});

// Progress output: a bar redrawn in place on a TTY, one line per epoch elsewhere, silence with verbose 0.
import { describe, expect, test } from 'vitest';
import type { Tensor } from '../../lib/tensor.js';
import { fit } from '../../lib/train/index.js';
import { formatDuration, formatValue } from '../../lib/train/progress.js';
import { FakeStream, blobs, classifier } from './helpers.js';

const { x, y } = blobs(40);
const xy = [x, y] as const;
const opts = { epochs: 2, batchSize: 10, loss: 'crossEntropy' as const, metrics: ['accuracy'], validationSplit: 0.25 };

describe('progress output', () => {
  test('TTY, verbose 1: each epoch redraws one line with epoch, step/total, bar, loss, metrics, samples/s, ETA, then ends it', async () => {
    const out = new FakeStream(true, 200);
    await fit(classifier(), xy, { ...opts, verbose: 1, output: out });
    const text = out.text;
    // 30 training samples / 10 = 3 steps per epoch; 2 epochs -> 2 finished lines.
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
    // Redraws start with \r and clear the rest of the line.
    expect(out.chunks.filter((c) => c !== '\n').every((c) => c.startsWith('\r') && c.endsWith('\x1b[K'))).toBe(true);
    const draws = out.chunks.filter((c) => c.startsWith('\r'));
    expect(draws[0]).toMatch(/^\rEpoch 1\/2  1\/3 \[======>\.{13}\]  loss \d\.\d{4}  accuracy \d\.\d{4}  [\d,]+ samples\/s  ETA [\d.]+s\x1b\[K$/);
    // The final line of each epoch has the full bar, validation values, the lr and the elapsed time (no ETA).
    const finals = text.split('\n').slice(0, 2).map((l) => l.slice(l.lastIndexOf('\r') + 1));
    finals.forEach((line, e) => {
      expect(line).toMatch(new RegExp(`^Epoch ${e + 1}/2  3/3 \\[={20}\\]  loss \\d\\.\\d{4}  accuracy \\d\\.\\d{4}  val_loss \\d\\.\\d{4}  val_accuracy \\d\\.\\d{4}  lr 0\\.0010  [\\d,]+ samples/s  [\\d.]+s\\x1b\\[K$`));
    });
  });

  test('TTY lines are cut to the terminal width (a wrapped line would break the redraw)', async () => {
    const out = new FakeStream(true, 40);
    await fit(classifier(), xy, { ...opts, verbose: 1, output: out });
    for (const c of out.chunks.filter((s) => s.startsWith('\r'))) expect(c.length).toBeLessThanOrEqual(1 + 39 + 3);
  });

  test('not a TTY, verbose 1: exactly one plain line per epoch, no control characters', async () => {
    const out = new FakeStream(false);
    await fit(classifier(), xy, { ...opts, verbose: 1, output: out });
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    lines.forEach((line, e) => {
      expect(line).toMatch(new RegExp(`^Epoch ${e + 1}/2  3 steps  [\\d.]+s  [\\d,]+ samples/s  loss \\d\\.\\d{4}  accuracy \\d\\.\\d{4}  val_loss \\d\\.\\d{4}  val_accuracy \\d\\.\\d{4}  lr 0\\.0010$`));
    });
    expect(out.text).not.toMatch(/[\r\x1b]/);
  });

  test('verbose 2 prints one line per epoch even on a TTY', async () => {
    const out = new FakeStream(true, 200);
    await fit(classifier(), xy, { ...opts, verbose: 2, output: out });
    expect(out.chunks).toHaveLength(2);
    expect(out.text).not.toMatch(/[\r\x1b]/);
  });

  test('verbose 0 writes nothing', async () => {
    const out = new FakeStream(true, 200);
    await fit(classifier(), xy, { ...opts, verbose: 0, output: out });
    expect(out.chunks).toEqual([]);
  });

  test('a bar left mid-line by an error is ended with a newline', async () => {
    const out = new FakeStream(true, 200);
    const lossFn = () => { throw new Error('boom'); };
    await expect(fit(classifier(), xy, { ...opts, loss: lossFn, verbose: 1, output: out })).rejects.toThrow('boom');
    expect(out.chunks).toEqual([]); // nothing drawn before the first batch finished, so nothing to end

    let calls = 0;
    const failing = (p: Tensor) => {
      if (++calls === 2) throw new Error('boom');
      return p.sum().mul(0);
    };
    const out2 = new FakeStream(true, 200);
    await expect(fit(classifier(), xy, { ...opts, loss: failing, metrics: [], verbose: 1, output: out2 })).rejects.toThrow('boom');
    expect(out2.chunks.at(-1)).toBe('\n');
  });

  test('number and duration formats', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(0)).toBe('0.0000');
    expect(formatValue(12345.6)).toBe('1.23e+4');
    expect(formatValue(0.00012)).toBe('1.20e-4');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatDuration(3.21)).toBe('3.2s');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(7322)).toBe('2h02m');
  });
});

// Progress output for fit, as a callback. verbose 1 on a TTY: one progress bar per epoch, redrawn in
// place (epoch, step/total, loss, metrics, samples/s, ETA) and left on screen with the epoch's final
// values; verbose 1 elsewhere (a pipe, a log file, CI) and verbose 2: one line per epoch.

import type { Callback, FitContext } from './callbacks.js';
import type { Logs } from './history.js';

/** Where progress goes: process.stdout by default; anything with write() (and isTTY, columns) works. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 20;
/** Redraw the bar at most this often (the first and last step of an epoch are always drawn). */
const REDRAW_MS = 100;
/** Batch-log keys that are bookkeeping, not values to show. */
const HIDDEN = new Set(['batchLoss', 'size']);

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(4);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(samplesPerSecond: number): string {
  if (!Number.isFinite(samplesPerSecond)) return '?';
  return String(Math.round(samplesPerSecond)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join('  ');
}

export class ProgressLogger implements Callback {
  private readonly bar: boolean;
  private epochStart = 0;
  /** When the last training batch of the epoch ended (samples/s leaves validation time out). */
  private trainEnd = 0;
  private lastDraw = -Infinity;
  private samples = 0;
  private drawn = false;

  /** verbose 1 draws a bar when the stream is a TTY; verbose 2 always prints one line per epoch. */
  constructor(private readonly stream: ProgressStream, verbose: 1 | 2) {
    this.bar = verbose === 1 && stream.isTTY === true;
  }

  onEpochBegin(): void {
    this.epochStart = performance.now();
    this.lastDraw = -Infinity;
    this.samples = 0;
  }

  onBatchEnd(step: number, logs: Logs, ctx: FitContext): void {
    this.samples += logs.size ?? 0;
    const now = performance.now();
    this.trainEnd = now;
    if (!this.bar) return;
    const last = step + 1 === ctx.stepsPerEpoch;
    if (step !== 0 && !last && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const eta = (elapsed / (step + 1)) * (ctx.stepsPerEpoch - step - 1);
    this.draw(ctx, step + 1, `${formatLogs(logs)}  ${formatRate(this.samples / elapsed)} samples/s  ETA ${formatDuration(eta)}`);
  }

  onEpochEnd(epoch: number, logs: Logs, ctx: FitContext): void {
    const elapsed = (performance.now() - this.epochStart) / 1000;
    const rate = `${formatRate(this.samples / ((this.trainEnd - this.epochStart) / 1000))} samples/s`;
    if (this.bar) {
      this.draw(ctx, ctx.stepsPerEpoch, `${formatLogs(logs)}  ${rate}  ${formatDuration(elapsed)}`);
      this.stream.write('\n');
      this.drawn = false;
    } else {
      const head = `Epoch ${epoch + 1}/${ctx.epochs}`;
      this.stream.write(`${head}  ${ctx.stepsPerEpoch} step${ctx.stepsPerEpoch === 1 ? '' : 's'}  ${formatDuration(elapsed)}  ${rate}  ${formatLogs(logs)}\n`);
    }
  }

  /** Ends a bar left mid-line (training stopped by an error), so later output starts on a fresh line. */
  close(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private draw(ctx: FitContext, done: number, tail: string): void {
    const total = ctx.stepsPerEpoch;
    const filled = Math.floor((BAR_WIDTH * done) / total);
    const arrow = filled < BAR_WIDTH ? '>' : '';
    const bar = '='.repeat(filled) + arrow + '.'.repeat(Math.max(0, BAR_WIDTH - filled - arrow.length));
    const width = String(total).length;
    let line = `Epoch ${ctx.epoch + 1}/${ctx.epochs}  ${String(done).padStart(width)}/${total} [${bar}]  ${tail}`;
    // A line longer than the terminal wraps and '\r' then redraws only its last row.
    const columns = this.stream.columns;
    if (columns !== undefined && columns > 1 && line.length > columns - 1) line = line.slice(0, columns - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }
}

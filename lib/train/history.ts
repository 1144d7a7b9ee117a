// What fit returns: the logs of every epoch (and, when asked, of every batch).

/** Named values, e.g. { loss: 0.31, accuracy: 0.9, val_loss: 0.35, val_accuracy: 0.88, lr: 0.001 }. */
export type Logs = Record<string, number>;

/** One batch's record (fit option `recordBatches: true`). */
export interface BatchLog {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based step within the epoch. */
  step: number;
  /** Samples in this batch. */
  size: number;
  /** This batch's own loss. */
  batchLoss: number;
  /** Running means over the epoch so far: `loss` and every metric (what the progress bar shows). */
  logs: Logs;
}

export interface HistoryParams {
  epochs: number;
  stepsPerEpoch: number;
  samplesPerEpoch: number;
  validationSamples: number;
}

/**
 * Per-epoch values keyed by name, like Keras: `history.history.loss[e]`, `history.get('val_accuracy')`.
 * Keys: 'loss', each metric's name, 'val_loss' and 'val_<metric>' when there is validation data, and
 * 'lr' (the first parameter group's learning rate when the epoch began).
 */
export class History {
  /** 0-based indices of the epochs that ran. */
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  /** Per-batch records, filled only with fit's `recordBatches: true`. */
  readonly batches: BatchLog[] = [];
  /** 0-based epoch at which a callback stopped training, or null when every epoch ran. */
  stoppedEpoch: number | null = null;
  /**
   * Training steps that ran as a replay of the recorded native step (fit option nativeStep); the others
   * ran the JS autograd step. Both give the same bits.
   */
  replayedSteps = 0;
  /**
   * Batches that a replay gathered while the previous step ran (with 2+ threads and a plain Dataset,
   * fit keeps two recorded steps and gathers each batch one step ahead into the other's inputs).
   */
  gatheredAhead = 0;
  /** Why steps ran the JS step when the replay could have been used ('' when nothing stood in the way). */
  replayNote = '';

  constructor(readonly params: HistoryParams) {}

  /** Appends one epoch's logs (a key missing in earlier epochs is back-filled with NaN). */
  record(epoch: number, logs: Logs): void {
    const before = this.epoch.length;
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) {
      this.history[key] ??= new Array<number>(before).fill(NaN);
      this.history[key].push(value);
    }
    for (const values of Object.values(this.history)) if (values.length === before) values.push(NaN);
  }

  /** The per-epoch values of one key; throws naming the known keys when it is absent. */
  get(key: string): number[] {
    const values = this.history[key];
    if (values === undefined) throw new RangeError(`History.get: no values for '${key}'; recorded: ${Object.keys(this.history).join(', ')}`);
    return values;
  }

  /** The last epoch's value of a key. */
  last(key: string): number {
    const values = this.get(key);
    return values[values.length - 1];
  }

  /** Plain data (JSON-friendly). */
  toJSON(): { epoch: number[]; history: Record<string, number[]>; params: HistoryParams; stoppedEpoch: number | null } {
    return { epoch: [...this.epoch], history: structuredClone(this.history), params: { ...this.params }, stoppedEpoch: this.stoppedEpoch };
  }
}

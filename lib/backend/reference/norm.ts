// Batch norm and layer norm as plain float64 loops: the oracle for the native kernels.
// Batch norm sees x as [M,C] and normalizes each channel over M; layer norm sees x as [M,D] and
// normalizes each row over D. Formulas follow PyTorch (see Backend in ../backend.ts).

import type { Backend, F32 } from '../backend.js';
import { checkDims, checkLength, checkOptionalLength, describe } from '../checks.js';

function checkEps(op: string, eps: unknown): asserts eps is number {
  if (typeof eps !== 'number') throw new TypeError(`${op}: eps must be a number, got ${describe(eps)}`);
  if (!Number.isFinite(eps) || !(eps > 0)) throw new RangeError(`${op}: eps must be > 0, got ${eps}`);
}

/** m*width elements, refusing more than 2^32 (the native limit) before any length check. */
function checkElements(op: string, m: number, width: number): number {
  const total = m * width;
  if (total > 2 ** 32) throw new RangeError(`${op}: x has too many elements (more than 2^32): ${m}*${width}`);
  return total;
}

// Shared argument checks of the two backward kernels: (m, width, dx, dgamma, dbeta, dy, x, gamma,
// saveMean, saveInvStd) with the saved statistics per column (batch norm) or per row (layer norm).
function checkNormBackward(
  op: string, widthName: 'c' | 'd', m: number, width: number, dx: F32, dgamma: F32 | null, dbeta: F32 | null,
  dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
): void {
  checkDims(op, { m, [widthName]: width });
  const total = checkElements(op, m, width);
  const how = `m*${widthName} (m=${m}, ${widthName}=${width})`;
  const perCol = `${widthName} (${width})`;
  const statsPerRow = widthName === 'd';
  checkLength(op, 'dx', dx, total, how);
  checkOptionalLength(op, 'dgamma', dgamma, width, perCol);
  checkOptionalLength(op, 'dbeta', dbeta, width, perCol);
  checkLength(op, 'dy', dy, total, how);
  checkLength(op, 'x', x, total, how);
  checkOptionalLength(op, 'gamma', gamma, width, perCol);
  checkLength(op, 'saveMean', saveMean, statsPerRow ? m : width, statsPerRow ? `m (${m})` : perCol);
  checkLength(op, 'saveInvStd', saveInvStd, statsPerRow ? m : width, statsPerRow ? `m (${m})` : perCol);
}

export const normKernels: Pick<
  Backend, 'batchNormTrain' | 'batchNormInference' | 'batchNormBackward' | 'layerNorm' | 'layerNormBackward'
> = {
  // x [M,C], gamma/beta [C]|null -> y [M,C], saveMean/saveInvStd [C]; running stats [C] updated in place.
  batchNormTrain(m, c, eps, momentum, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd) {
    const op = 'batchNormTrain';
    checkDims(op, { m, c });
    const total = checkElements(op, m, c);
    checkEps(op, eps);
    if (typeof momentum !== 'number') throw new TypeError(`${op}: momentum must be a number, got ${describe(momentum)}`);
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
    const how = `m*c (m=${m}, c=${c})`;
    checkLength(op, 'x', x, total, how);
    checkOptionalLength(op, 'gamma', gamma, c, `c (${c})`);
    checkOptionalLength(op, 'beta', beta, c, `c (${c})`);
    checkOptionalLength(op, 'runningMean', runningMean, c, `c (${c})`);
    checkOptionalLength(op, 'runningVar', runningVar, c, `c (${c})`);
    checkLength(op, 'y', y, total, how);
    checkLength(op, 'saveMean', saveMean, c, `c (${c})`);
    checkLength(op, 'saveInvStd', saveInvStd, c, `c (${c})`);
    if ((runningMean === null) !== (runningVar === null)) {
      throw new TypeError(`${op}: runningMean and runningVar must both be Float32Arrays or both be null`);
    }
    if (runningMean !== null && m < 2) {
      throw new RangeError(`${op}: m must be >= 2 to update the running variance (unbiased, divides by m-1), got m=${m}`);
    }

    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let r = 0; r < m; r++) sum += x[r * c + j];
      const mean = sum / m;
      let sq = 0;
      for (let r = 0; r < m; r++) sq += (x[r * c + j] - mean) ** 2;
      const invStd = 1 / Math.sqrt(sq / m + eps);
      saveMean[j] = mean;
      saveInvStd[j] = invStd;
      if (runningMean !== null && runningVar !== null) {
        runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean;
        runningVar[j] = (1 - momentum) * runningVar[j] + momentum * (sq / (m - 1));
      }
      const g = gamma === null ? 1 : gamma[j];
      const b = beta === null ? 0 : beta[j];
      for (let r = 0; r < m; r++) y[r * c + j] = (x[r * c + j] - mean) * invStd * g + b;
    }
  },

  batchNormInference(m, c, eps, x, gamma, beta, runningMean, runningVar, y) {
    const op = 'batchNormInference';
    checkDims(op, { m, c });
    const total = checkElements(op, m, c);
    checkEps(op, eps);
    const how = `m*c (m=${m}, c=${c})`;
    checkLength(op, 'x', x, total, how);
    checkOptionalLength(op, 'gamma', gamma, c, `c (${c})`);
    checkOptionalLength(op, 'beta', beta, c, `c (${c})`);
    checkLength(op, 'runningMean', runningMean, c, `c (${c})`);
    checkLength(op, 'runningVar', runningVar, c, `c (${c})`);
    checkLength(op, 'y', y, total, how);

    for (let j = 0; j < c; j++) {
      const invStd = 1 / Math.sqrt(runningVar[j] + eps);
      const g = gamma === null ? 1 : gamma[j];
      const b = beta === null ? 0 : beta[j];
      for (let r = 0; r < m; r++) y[r * c + j] = (x[r * c + j] - runningMean[j]) * invStd * g + b;
    }
  },

  // xhat = (x - mean)·invStd; dbeta = Σ dy; dgamma = Σ dy·xhat; dx = gamma·invStd·(dy - dbeta/M - xhat·dgamma/M).
  batchNormBackward(m, c, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd) {
    checkNormBackward('batchNormBackward', 'c', m, c, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd);
    for (let j = 0; j < c; j++) {
      const mean = saveMean[j];
      const invStd = saveInvStd[j];
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let r = 0; r < m; r++) {
        sumDy += dy[r * c + j];
        sumDyXhat += dy[r * c + j] * (x[r * c + j] - mean) * invStd;
      }
      if (dbeta !== null) dbeta[j] = sumDy;
      if (dgamma !== null) dgamma[j] = sumDyXhat;
      const scale = (gamma === null ? 1 : gamma[j]) * invStd;
      for (let r = 0; r < m; r++) {
        const xhat = (x[r * c + j] - mean) * invStd;
        dx[r * c + j] = scale * (dy[r * c + j] - sumDy / m - (xhat * sumDyXhat) / m);
      }
    }
  },

  // x [M,D], gamma/beta [D]|null -> y [M,D], saveMean/saveInvStd [M].
  layerNorm(m, d, eps, x, gamma, beta, y, saveMean, saveInvStd) {
    const op = 'layerNorm';
    checkDims(op, { m, d });
    const total = checkElements(op, m, d);
    checkEps(op, eps);
    const how = `m*d (m=${m}, d=${d})`;
    checkLength(op, 'x', x, total, how);
    checkOptionalLength(op, 'gamma', gamma, d, `d (${d})`);
    checkOptionalLength(op, 'beta', beta, d, `d (${d})`);
    checkLength(op, 'y', y, total, how);
    checkLength(op, 'saveMean', saveMean, m, `m (${m})`);
    checkLength(op, 'saveInvStd', saveInvStd, m, `m (${m})`);

    for (let r = 0; r < m; r++) {
      const row = r * d;
      let sum = 0;
      for (let j = 0; j < d; j++) sum += x[row + j];
      const mean = sum / d;
      let sq = 0;
      for (let j = 0; j < d; j++) sq += (x[row + j] - mean) ** 2;
      const invStd = 1 / Math.sqrt(sq / d + eps);
      saveMean[r] = mean;
      saveInvStd[r] = invStd;
      for (let j = 0; j < d; j++) {
        const xhat = (x[row + j] - mean) * invStd;
        y[row + j] = xhat * (gamma === null ? 1 : gamma[j]) + (beta === null ? 0 : beta[j]);
      }
    }
  },

  // Per row, with g = dy·gamma: dx = invStd·(g - mean(g) - xhat·mean(g·xhat)); dgamma = Σ_rows dy·xhat;
  // dbeta = Σ_rows dy.
  layerNormBackward(m, d, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd) {
    checkNormBackward('layerNormBackward', 'd', m, d, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd);
    const sumDyXhat = new Float64Array(d);
    const sumDy = new Float64Array(d);
    for (let r = 0; r < m; r++) {
      const row = r * d;
      const mean = saveMean[r];
      const invStd = saveInvStd[r];
      let sumG = 0;
      let sumGXhat = 0;
      for (let j = 0; j < d; j++) {
        const xhat = (x[row + j] - mean) * invStd;
        const g = dy[row + j] * (gamma === null ? 1 : gamma[j]);
        sumG += g;
        sumGXhat += g * xhat;
        sumDyXhat[j] += dy[row + j] * xhat;
        sumDy[j] += dy[row + j];
      }
      for (let j = 0; j < d; j++) {
        const xhat = (x[row + j] - mean) * invStd;
        const g = dy[row + j] * (gamma === null ? 1 : gamma[j]);
        dx[row + j] = invStd * (g - sumG / d - (xhat * sumGXhat) / d);
      }
    }
    if (dgamma !== null) dgamma.set(sumDyXhat);
    if (dbeta !== null) dbeta.set(sumDy);
  },
};

// Information gain of each new token (Tan et al. 2024): with the states of tokens 0..t as the
// columns of Z_t, the log-det gain of adding token t to the normalized Gram matrix,
//   log det(I + Z_t'Z_t / lambda) - log det(I + Z_{t-1}'Z_{t-1} / lambda) = ln(1 + r_t / lambda) >= 0,
// r_t = min_w ||h_t - Z_{t-1} w||^2 + lambda ||w||^2, the ridge residual of h_t on the earlier
// states (the Schur complement of the ridge Gram matrix). 0 when h_t adds no new direction, up to
// ln(1 + 1/lambda) (4.62 nats at lambda 0.01) for a unit state orthogonal to all earlier ones.
// (Without the 1/lambda inside, log det(Z'Z + lambda I) has increments ln(lambda + r_t): the same
// numbers shifted by ln lambda, mostly negative, which earlier versions showed.) A Cholesky factor
// L of G = Z'Z + lambda I carries every one of them at once: L_tt^2 = lambda + r_t, so the gains
// are 2 ln L_tt - ln lambda. One O(T^3 / 3) factorization (ml-matrix).
import { Matrix, cholesky, gram } from './linalg';

export interface InformationGain {
  /** ln(1 + r_t / lambda) per token, nats (>= 0). */
  gainNats: number[];
  /** r_t per token (ridge residual + penalty), in squared state units. */
  residual: number[];
  lambda: number;
}

export function informationGain(states: Float64Array[], lambda: number): InformationGain {
  if (!(lambda > 0)) throw new Error(`informationGain: lambda must be > 0, got ${lambda}`);
  const T = states.length;
  if (T === 0) return { gainNats: [], residual: [], lambda };
  return fromGram(gram(states), lambda);
}

/**
 * The same on unit-norm states, from the Gram matrix of the raw states (row-major T x T, e.g. the
 * one the Lasso also reads): G_ij / (|h_i| |h_j|) is the Gram matrix of the unit rows (a zero
 * state stays a zero row, as in unitRows).
 */
export function informationGainOfUnitRows(rawGram: Float64Array, T: number, lambda: number): InformationGain {
  if (!(lambda > 0)) throw new Error(`informationGain: lambda must be > 0, got ${lambda}`);
  if (T === 0) return { gainNats: [], residual: [], lambda };
  const inv = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const d = rawGram[i * T + i];
    inv[i] = d > 0 ? 1 / Math.sqrt(d) : 0;
  }
  const g = new Matrix(T, T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rawGram[i * T + j] * inv[i] * inv[j];
      g.set(i, j, v);
      g.set(j, i, v);
    }
  }
  return fromGram(g, lambda);
}

function fromGram(g: Matrix, lambda: number): InformationGain {
  const T = g.rows;
  for (let i = 0; i < T; i++) g.set(i, i, g.get(i, i) + lambda);
  const L = cholesky(g);
  const lnLambda = Math.log(lambda);
  const gainNats: number[] = [];
  const residual: number[] = [];
  for (let t = 0; t < T; t++) {
    const d = L.get(t, t);
    // Rounding can leave d^2 a hair below lambda when h_t lies in the earlier states' span.
    gainNats.push(Math.max(0, 2 * Math.log(d) - lnLambda));
    residual.push(Math.max(0, d * d - lambda));
  }
  return { gainNats, residual, lambda };
}

/** Rows scaled to unit norm (zero rows kept as zeros), so that lambda has a scale-free meaning. */
export function unitRows(states: Float64Array[]): Float64Array[] {
  return states.map((s) => {
    let n2 = 0;
    for (const x of s) n2 += x * x;
    const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
    return s.map((x) => x * inv);
  });
}

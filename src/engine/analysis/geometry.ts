// Representation geometry (Tan et al. 2024, "The information of large language model geometry"):
// the matrix entropy of a layer's hidden states over the tokens of a selection.
//
// Z: the T x d states, centered over tokens, then each row scaled to unit norm (rows that are zero
// after centering are dropped). Sigma = Z'Z / T. With lambda_i the eigenvalues of
// Sigma / tr(Sigma), H = -sum lambda_i ln lambda_i (nats), between 0 (rank one) and ln d
// (isotropic); the normalized value is H / ln d. Z'Z and ZZ' share their nonzero eigenvalues, so by
// default the smaller of the two products is formed (d x d covariance or T x T Gram matrix) and its
// eigenvalues computed without eigenvectors (eigenvalues.ts); the squared singular values of Z
// from ml-matrix's SVD are kept as an independent cross-check (tested to agree).
import { symmetricEigenvaluesInPlace } from './eigenvalues';
import { gramOf, gramOfRows, singularValues } from './linalg';

export function normalizedRows(states: Float64Array[]): Float64Array[] {
  const T = states.length;
  if (T === 0) return [];
  const d = states[0].length;
  const mean = new Float64Array(d);
  for (const s of states) for (let i = 0; i < d; i++) mean[i] += s[i] / T;
  const out: Float64Array[] = [];
  for (const s of states) {
    const z = new Float64Array(d);
    let n2 = 0;
    for (let i = 0; i < d; i++) {
      z[i] = s[i] - mean[i];
      n2 += z[i] * z[i];
    }
    // Rows equal to the mean carry no direction; a relative threshold keeps rounding noise out.
    if (n2 <= 1e-24 * (1 + dotSelf(s))) continue;
    const inv = 1 / Math.sqrt(n2);
    for (let i = 0; i < d; i++) z[i] *= inv;
    out.push(z);
  }
  return out;
}

function dotSelf(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return s;
}

export function entropyOfSpectrum(eigs: number[]): number {
  const pos = eigs.map((e) => (e > 0 ? e : 0));
  const tr = pos.reduce((a, b) => a + b, 0);
  if (!(tr > 0)) return 0;
  let h = 0;
  for (const e of pos) {
    const l = e / tr;
    if (l > 1e-300) h -= l * Math.log(l);
  }
  return h;
}

/** Covariance route: eigenvalues of Z'Z / T (d x d). */
export function covarianceSpectrum(z: Float64Array[]): number[] {
  const T = z.length;
  const d = T ? z[0].length : 0;
  const cols = new Float64Array(d * T);
  z.forEach((row, t) => {
    for (let i = 0; i < d; i++) cols[i * T + t] = row[i] / Math.sqrt(T);
  });
  return Array.from(symmetricEigenvaluesInPlace(gramOf(cols, d, T), d));
}

/** SVD route: squared singular values of Z, over T; the nonzero spectrum of both routes above. */
export function svdSpectrum(z: Float64Array[]): number[] {
  const T = z.length;
  return singularValues(z).map((s) => (s * s) / (T || 1));
}

/** Gram route: eigenvalues of ZZ' / T (T x T); the same nonzero spectrum as the covariance. */
export function gramSpectrum(z: Float64Array[]): number[] {
  const T = z.length;
  const g = gramOfRows(z);
  for (let i = 0; i < g.length; i++) g[i] /= T;
  return Array.from(symmetricEigenvaluesInPlace(g, T));
}

export function matrixEntropy(states: Float64Array[], route: 'auto' | 'svd' | 'covariance' | 'gram' = 'auto'): {
  entropyNats: number;
  normalized: number;
  rows: number;
} {
  const z = normalizedRows(states);
  const d = states.length ? states[0].length : 0;
  if (z.length < 2 || d < 2) return { entropyNats: 0, normalized: 0, rows: z.length };
  const r = route === 'auto' ? (z.length < d ? 'gram' : 'covariance') : route;
  const spectrum = r === 'gram' ? gramSpectrum(z) : r === 'covariance' ? covarianceSpectrum(z) : svdSpectrum(z);
  const h = entropyOfSpectrum(spectrum);
  return { entropyNats: h, normalized: h / Math.log(d), rows: z.length };
}

// A multi-layer linear self-attention (LSA) forward pass with an attention mask, as in Ding et al.
// 2023, "CausalLM is not optimal for in-context learning" (after von Oswald et al. 2023):
//
//   z_j <- z_j + sum_{i in A(j)} W_PV z_i (z_i' W_KQ z_j)      for every token j, every layer
//
// with the same W_KQ, W_PV in every layer and A(j) the tokens that j may attend to (the mask). All
// tokens of a layer read the previous layer's values (a transformer layer, not an in-place sweep).
// Nothing here knows about regression: the in-context learning lab (icl.ts) builds the tokens, the
// weights and the two masks, and reads its predictions from the outputs.

/** Row-major matrices and token sets, in float64. */
export interface LsaInput {
  /** N tokens of width D, row-major [N x D]. */
  tokens: Float64Array;
  n: number;
  width: number;
  /** [D x D] row-major. */
  wKQ: Float64Array;
  /** [D x D] row-major. */
  wPV: Float64Array;
  /** [N x N] row-major: mask[j * N + i] = 1 when token j attends to token i. */
  mask: Uint8Array;
  layers: number;
}

/** Rows `rows` of mat [D x D] times the vector at v[vOff..], into out[outOff..] (other rows untouched). */
function matVecRows(mat: Float64Array, rows: Int32Array, v: Float64Array, vOff: number, d: number, out: Float64Array, outOff: number): void {
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    let s = 0;
    const base = r * d;
    for (let c = 0; c < d; c++) s += mat[base + c] * v[vOff + c];
    out[outOff + r] = s;
  }
}

/**
 * Runs the layers; after each one calls `onLayer(layer, tokens)` (layer = 1..L; `tokens` is the
 * layer's output, read it before returning: the next layer overwrites it). Returns the output of
 * the last layer (a new array; the input is not modified).
 */
export function lsaForward(input: LsaInput, onLayer?: (layer: number, tokens: Float64Array) => void): Float64Array {
  const { n, width: d, wKQ, wPV, mask, layers } = input;
  if (input.tokens.length !== n * d) throw new Error(`lsaForward: ${input.tokens.length} values for ${n} tokens of width ${d}`);
  if (mask.length !== n * n) throw new Error(`lsaForward: mask of ${mask.length} entries for ${n} tokens`);
  let z = Float64Array.from(input.tokens);
  let next = new Float64Array(n * d);
  const q = new Float64Array(n * d); // W_KQ z_j: the query side of every score
  const v = new Float64Array(n * d); // W_PV z_i: the value written by every attended token
  // Only the rows of W_KQ and W_PV that are not all zero can give nonzero channels of W_KQ z and
  // W_PV z; the sums skip the other channels, which changes no result (their terms are exactly 0).
  const live = (m: Float64Array) => Int32Array.from(Array.from({ length: d }, (_, r) => r).filter((r) => m.subarray(r * d, r * d + d).some((x) => x !== 0)));
  const qCh = live(wKQ);
  const vCh = live(wPV);
  const nq = qCh.length;
  const nv = vCh.length;
  for (let layer = 1; layer <= layers; layer++) {
    for (let t = 0; t < n; t++) {
      matVecRows(wKQ, qCh, z, t * d, d, q, t * d);
      matVecRows(wPV, vCh, z, t * d, d, v, t * d);
    }
    for (let j = 0; j < n; j++) {
      const oj = j * d;
      for (let c = 0; c < d; c++) next[oj + c] = z[oj + c];
      const row = j * n;
      for (let i = 0; i < n; i++) {
        if (mask[row + i] === 0) continue;
        const oi = i * d;
        let score = 0; // z_i' W_KQ z_j
        for (let k = 0; k < nq; k++) {
          const c = qCh[k];
          score += z[oi + c] * q[oj + c];
        }
        if (score === 0) continue;
        for (let k = 0; k < nv; k++) {
          const c = vCh[k];
          next[oj + c] += score * v[oi + c];
        }
      }
    }
    const done = next;
    next = z;
    z = done;
    if (onLayer) onLayer(layer, z);
  }
  return z;
}

// Eigenvalues of a real symmetric matrix, without eigenvectors: Householder reduction to
// tridiagonal form, then the implicit QL iteration on the tridiagonal matrix (EISPACK's tred1 +
// tql1; LAPACK's dsytd2 + dsterf do the same work).
//
// Why by hand: matrix entropy needs the whole spectrum of five 192 x 192 matrices per probe, and
// the maintained libraries on npm only offer full decompositions. ml-matrix's symmetric EVD always
// accumulates the eigenvectors and its SVD works through Matrix objects: 70 ms per layer, more
// than the two surprisal passes for the five layers. This is the eigenvalue-only half of the same
// algorithm on one flat Float64Array, about 4/3 n^3 flops instead of about 9 n^3 (tested against
// ml-matrix's EVD and SVD to 1e-12 relative, test/analysis/eigenvalues.test.ts).

/**
 * Eigenvalues, ascending, of the symmetric n x n matrix whose lower triangle is in `a` (row-major;
 * the upper triangle is not read). `a` is overwritten.
 */
export function symmetricEigenvaluesInPlace(a: Float64Array, n: number): Float64Array {
  if (a.length < n * n) throw new Error(`symmetricEigenvalues: ${a.length} values for a ${n} x ${n} matrix`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(a, n, d, e);
  tridiagonalEigenvalues(d, e, n);
  return d.sort();
}

/** Copying form of symmetricEigenvaluesInPlace. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  return symmetricEigenvaluesInPlace(Float64Array.from(a), n);
}

/**
 * Householder reduction of the lower triangle (tred1): on return d holds the diagonal and e the
 * subdiagonal of the similar tridiagonal matrix (e[i] couples rows i - 1 and i; e[0] = 0).
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]);
    // Scaling keeps the sum of squares away from overflow and underflow; a zero row needs no
    // reflection.
    if (l === 0 || scale === 0) {
      e[i] = a[ri + l];
      continue;
    }
    for (let k = 0; k <= l; k++) {
      a[ri + k] /= scale;
      h += a[ri + k] * a[ri + k];
    }
    let f = a[ri + l];
    let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    a[ri + l] = f - g;
    // p = A u / h into e[0..l] (A symmetric, lower triangle read row by row), K = u'p / 2h; then
    // A -= u q' + q u' with q = p - K u.
    for (let j = 0; j <= l; j++) e[j] = 0;
    for (let j = 0; j <= l; j++) {
      const rj = j * n;
      const uj = a[ri + j];
      g = a[rj + j] * uj;
      for (let k = 0; k < j; k++) {
        const ajk = a[rj + k];
        g += ajk * a[ri + k];
        e[k] += ajk * uj;
      }
      e[j] += g;
    }
    f = 0;
    for (let j = 0; j <= l; j++) {
      e[j] /= h;
      f += e[j] * a[ri + j];
    }
    const hh = f / (h + h);
    for (let j = 0; j <= l; j++) {
      const rj = j * n;
      f = a[ri + j];
      g = e[j] - hh * f;
      e[j] = g;
      for (let k = 0; k <= j; k++) a[rj + k] -= f * e[k] + g * a[ri + k];
    }
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (diagonal d, subdiagonal e[1..n-1]) by the
 * implicit QL iteration with Wilkinson shifts (tql1), into d. e is destroyed.
 */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      // the first negligible subdiagonal element at or after l splits the matrix
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= eps * dd) break;
      }
      if (m === l) break;
      if (++iter > 60) throw new Error('symmetricEigenvalues: the QL iteration did not converge');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = pythag(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = pythag(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // underflow: deflate and start over at l
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** sqrt(a^2 + b^2): Math.hypot guards against overflow at every call and is several times slower. */
function pythag(a: number, b: number): number {
  const s = a * a + b * b;
  // the squares overflow or underflow only far outside 1e-150..1e150: leave those to Math.hypot
  return s < 1e300 && s > 1e-300 ? Math.sqrt(s) : Math.hypot(a, b);
}

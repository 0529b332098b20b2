// @ts-check
/**
 * Q of the thin QR factorisation of a [rows, cols] matrix, by modified Gram–Schmidt with one
 * re-orthogonalisation pass per column (Kahan–Parlett "twice is enough"; Giraud, Langou, Rozložník,
 * van den Eshof, Numer. Math. 101 (2005) bound the loss of orthogonality), in float64. QᵀQ = I holds to float64 rounding, so the float32 copy returned is
 * orthonormal to float32 rounding: each entry of QᵀQ − I is at most 2·2⁻²⁴ (two roundings of
 * entries whose columns have unit norm, by Cauchy–Schwarz) plus terms of order rows·2⁻⁵³.
 * On a Gaussian matrix this is the Q of torch.linalg.qr up to column signs (R's diagonal is
 * positive here), so its column space is uniformly distributed.
 *
 * Runs on the host once per refresh window, never per step. A column numerically dependent on the
 * previous ones (probability 0 for Gaussian input) is an error naming it.
 */

/**
 * @param {Float64Array} values [rows, cols], row-major; not modified
 * @param {number} rows
 * @param {number} cols ≤ rows
 * @returns {Float32Array} [rows, cols], row-major, orthonormal columns
 */
export function orthonormalColumns(values, rows, cols) {
  const columns = Array.from({ length: cols }, (_, j) => Float64Array.from({ length: rows }, (_, i) => values[i * cols + j]));
  const dot = (/** @type {Float64Array} */ a, /** @type {Float64Array} */ b) => a.reduce((sum, x, i) => sum + x * b[i], 0);
  columns.forEach((column, j) => {
    const before = Math.sqrt(dot(column, column));
    for (let pass = 0; pass < 2; pass++) {
      for (const previous of columns.slice(0, j)) {
        const projection = dot(previous, column);
        column.forEach((x, i) => { column[i] = x - projection * previous[i]; });
      }
    }
    const norm = Math.sqrt(dot(column, column));
    if (!(norm > 1e-10 * before)) throw new Error(`orthonormalColumns: column ${j} of a [${rows}, ${cols}] matrix depends linearly on the previous ones`);
    column.forEach((x, i) => { column[i] = x / norm; });
  });
  return Float32Array.from({ length: rows * cols }, (_, at) => columns[at % cols][Math.floor(at / cols)]);
}

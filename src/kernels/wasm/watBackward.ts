/**
 * WebAssembly text of the layer-norm, softmax and embedding backward passes, reproducing cpu.ts's float64
 * loops bit for bit (the contract of watFloat64.ts: promote to f64, the JavaScript expression's
 * operations in its order, one rounding to f32 per Float32Array store).
 *
 * Rows are independent for ∂x, so threads split rows. ∂γ and ∂β accumulate over rows with a
 * float32 rounding after every row (cpu.ts: `DG[c] += …` on a Float32Array), so their order over
 * rows must stay r = 0, 1, …: a second kernel gives each thread whole columns instead, walking all
 * rows in order.
 */

/** Loads element c (local $c) of the f32 row at local `row` as f64. */
const at = (row: string): string => `(f64.promote_f32 (f32.load (i32.add (local.get ${row}) (i32.shl (local.get $c) (i32.const 2)))))`;
const storeAt = (row: string, value: string): string =>
  `(f32.store (i32.add (local.get ${row}) (i32.shl (local.get $c) (i32.const 2))) (f32.demote_f64 ${value}))`;

/** for (c = 0; c < cols; c++) body */
export const columns = (label: string, body: string): string => `
      (local.set $c (i32.const 0))
      (block $${label}d (loop $${label}n
        (br_if $${label}d (i32.ge_u (local.get $c) (local.get $cols)))
        ${body}
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $${label}n)))`;

/** Grab loop over rows [0, rows) (about 4096 elements per grab); the body sees $r and the row offset $row (bytes). */
export function rowKernel(name: string, params: string, locals: string, body: string): string {
  return `
  (func (export "${name}") ${params} (param $rows i32) (param $cols i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32) (local $c i32) (local $row i32) ${locals}
    (local.set $chunk (i32.add (i32.div_u (i32.const 4096) (i32.add (local.get $cols) (i32.const 1))) (i32.const 1)))
    (block $all (loop $more
    (local.set $r (call $grab (local.get $chunk)))
    (br_if $all (i32.ge_u (local.get $r) (local.get $rows)))
    (local.set $end (i32.add (local.get $r) (local.get $chunk)))
    (if (i32.gt_u (local.get $end) (local.get $rows)) (then (local.set $end (local.get $rows))))
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
      ${body}
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $more))))`;
}

/** x̂ = (x − μ)·rstd for column $c of row pointer $px. */
const xhat = '(f64.mul (f64.sub ' + at('$px') + ' (local.get $mu)) (local.get $inv))';

/**
 * ln_bwd_rows(x, γ, μ, rstd, dy, dx, rows, cols): cpu.ts's layerNormBackward for ∂x,
 *   ĝ = dy·γ; meanG = Σĝ / cols; meanGX = Σĝ·x̂ / cols; dx = rstd·(ĝ − meanG − x̂·meanGX).
 */
const layerNormRows = rowKernel('ln_bwd_rows',
  '(param $x i32) (param $g i32) (param $mean i32) (param $rstd i32) (param $dy i32) (param $dx i32)',
  '(local $px i32) (local $pdy i32) (local $pdx i32) (local $mu f64) (local $inv f64) (local $meanG f64) (local $meanGX f64) (local $gg f64) (local $xh f64)',
  `(local.set $px (i32.add (local.get $x) (local.get $row)))
      (local.set $pdy (i32.add (local.get $dy) (local.get $row)))
      (local.set $pdx (i32.add (local.get $dx) (local.get $row)))
      (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))))))
      (local.set $inv (f64.promote_f32 (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))))))
      (local.set $meanG (f64.const 0))
      (local.set $meanGX (f64.const 0))
      ${columns('a', `(local.set $xh ${xhat})
        (local.set $gg (f64.mul ${at('$pdy')} ${at('$g')}))
        (local.set $meanG (f64.add (local.get $meanG) (local.get $gg)))
        (local.set $meanGX (f64.add (local.get $meanGX) (f64.mul (local.get $gg) (local.get $xh))))`)}
      (local.set $meanG (f64.div (local.get $meanG) (f64.convert_i32_u (local.get $cols))))
      (local.set $meanGX (f64.div (local.get $meanGX) (f64.convert_i32_u (local.get $cols))))
      ${columns('b', storeAt('$pdx', `(f64.mul (local.get $inv) (f64.sub (f64.sub (f64.mul ${at('$pdy')} ${at('$g')}) (local.get $meanG))
          (f64.mul ${xhat} (local.get $meanGX))))`))}`);

/** Columns per grab of the column-parallel kernels. */
const PARAM_COLUMNS = 16;

/**
 * Opens the loops of a column-parallel kernel: grabs of PARAM_COLUMNS columns [$c0, $c1), and for
 * each, rows $r = 0, 1, … in order; the kernel closes both after its column loop.
 */
const columnsThenRows = `(block $all (loop $more
    (local.set $c0 (call $grab (i32.const ${PARAM_COLUMNS})))
    (br_if $all (i32.ge_u (local.get $c0) (local.get $cols)))
    (local.set $c1 (i32.add (local.get $c0) (i32.const ${PARAM_COLUMNS})))
    (if (i32.gt_u (local.get $c1) (local.get $cols)) (then (local.set $c1 (local.get $cols))))
    (local.set $r (i32.const 0))
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))`;

/**
 * ln_bwd_params(x, μ, rstd, dy, dγ, dβ, rows, cols): dγ[c] += dy·x̂ and dβ[c] += dy, row after
 * row (r = 0, 1, …) with the float32 rounding after each, as cpu.ts; threads take PARAM_COLUMNS
 * columns at a time and walk every row for them.
 */
const layerNormParams = `
  (func (export "ln_bwd_params") (param $x i32) (param $mean i32) (param $rstd i32) (param $dy i32) (param $dgamma i32) (param $dbeta i32)
    (param $rows i32) (param $cols i32) (param $tid i32) (param $nt i32)
    (local $c0 i32) (local $c1 i32) (local $c i32) (local $r i32) (local $row i32) (local $px i32) (local $pdy i32)
    (local $mu f64) (local $inv f64) (local $d f64) (local $q i32)
    ${columnsThenRows}
      (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2)))
      (local.set $px (i32.add (local.get $x) (local.get $row)))
      (local.set $pdy (i32.add (local.get $dy) (local.get $row)))
      (local.set $mu (f64.promote_f32 (f32.load (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))))))
      (local.set $inv (f64.promote_f32 (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))))))
      (local.set $c (local.get $c0))
      (block $cd (loop $cn
        (br_if $cd (i32.ge_u (local.get $c) (local.get $c1)))
        (local.set $d ${at('$pdy')})
        (local.set $q (i32.add (local.get $dgamma) (i32.shl (local.get $c) (i32.const 2))))
        (f32.store (local.get $q) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $q))) (f64.mul (local.get $d) ${xhat}))))
        (local.set $q (i32.add (local.get $dbeta) (i32.shl (local.get $c) (i32.const 2))))
        (f32.store (local.get $q) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $q))) (local.get $d))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cn)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $more))))`;

/** softmax_bwd(y, dy, dx, alpha, rows, cols): cpu.ts's softmaxBackward, dot = Σ dy·y, dx = alpha·y·(dy − dot). */
const softmaxBackward = rowKernel('softmax_bwd',
  '(param $y i32) (param $dy i32) (param $dx i32) (param $alpha f64)',
  '(local $py i32) (local $pdy i32) (local $pdx i32) (local $dot f64)',
  `(local.set $py (i32.add (local.get $y) (local.get $row)))
      (local.set $pdy (i32.add (local.get $dy) (local.get $row)))
      (local.set $pdx (i32.add (local.get $dx) (local.get $row)))
      (local.set $dot (f64.const 0))
      ${columns('a', `(local.set $dot (f64.add (local.get $dot) (f64.mul ${at('$pdy')} ${at('$py')})))`)}
      ${columns('b', storeAt('$pdx', `(f64.mul (f64.mul (local.get $alpha) ${at('$py')}) (f64.sub ${at('$pdy')} (local.get $dot)))`))}`);

/**
 * embedding_bwd(ids, dy, dtable, rows, dim): dtable[ids[r]] += dy[r], r = 0, 1, … in order (a row
 * may repeat, and cpu.ts rounds to float32 after each add), so threads take PARAM_COLUMNS columns
 * each and walk every row for them.
 */
const embeddingBackward = `
  (func (export "embedding_bwd") (param $ids i32) (param $dy i32) (param $dtable i32) (param $rows i32) (param $cols i32)
    (param $tid i32) (param $nt i32)
    (local $c0 i32) (local $c1 i32) (local $c i32) (local $r i32) (local $pdy i32) (local $pt i32) (local $q i32)
    ${columnsThenRows}
      (local.set $pdy (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $pt (i32.add (local.get $dtable) (i32.shl (i32.mul
        (i32.load (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $cols)) (i32.const 2))))
      (local.set $c (local.get $c0))
      (block $cd (loop $cn
        (br_if $cd (i32.ge_u (local.get $c) (local.get $c1)))
        (local.set $q (i32.add (local.get $pt) (i32.shl (local.get $c) (i32.const 2))))
        (f32.store (local.get $q) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $q))) ${at('$pdy')})))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cn)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $more))))`;

/** Columns one unit of `reduce` accumulates at once: 16 floats, one cache line of each row. */
const REDUCE_COLUMNS = 16;

/**
 * reduce(a, out, outer, mid, inner, op): cpu.ts's reduce over the middle axis, op 0 sum, 1 mean,
 * 2 max: per output column a float64 accumulator folding m = 0, 1, … in order (f64x2 lanes are
 * independent columns), the mean divided by mid once, one f32 rounding per output. A unit is one
 * outer index and REDUCE_COLUMNS columns; a last, partial group is folded column by column.
 */
const reduceKernel = (() => {
  const pairs = REDUCE_COLUMNS / 2;
  const acc = (j: number): string => `$acc${j}`;
  const pairAt = (j: number): string => `(f64x2.promote_low_f32x4 (v128.load64_zero offset=${8 * j} (local.get $p)))`;
  const foldPair = (j: number): string => `(local.set ${acc(j)} (if (result v128) (i32.eq (local.get $op) (i32.const 2))
          (then (f64x2.max (local.get ${acc(j)}) ${pairAt(j)})) (else (f64x2.add (local.get ${acc(j)}) ${pairAt(j)}))))`;
  const finish = (j: number): string => `(v128.store64_lane offset=${8 * j} 0 (local.get $q) (f32x4.demote_f64x2_zero
          (if (result v128) (i32.eq (local.get $op) (i32.const 1)) (then (f64x2.div (local.get ${acc(j)}) (local.get $midv))) (else (local.get ${acc(j)})))))`;
  const locals = Array.from({ length: pairs }, (_, j) => `(local ${acc(j)} v128)`).join(' ');
  const range = Array.from({ length: pairs }, (_, j) => j);
  return `
  (func (export "reduce") (param $a i32) (param $out i32) (param $outer i32) (param $mid i32) (param $inner i32) (param $op i32)
    (param $tid i32) (param $nt i32)
    (local $groups i32) (local $u i32) (local $o i32) (local $c0 i32) (local $c i32) (local $m i32) (local $p i32) (local $q i32)
    (local $init f64) (local $s f64) (local $x f64) (local $midv v128) ${locals}
    (local.set $groups (i32.div_u (i32.add (local.get $inner) (i32.const ${REDUCE_COLUMNS - 1})) (i32.const ${REDUCE_COLUMNS})))
    (local.set $init (select (f64.const -inf) (f64.const 0) (i32.eq (local.get $op) (i32.const 2))))
    (local.set $midv (f64x2.splat (f64.convert_i32_u (local.get $mid))))
    (block $all (loop $more
      (local.set $u (call $grab (i32.const 1)))
      (br_if $all (i32.ge_u (local.get $u) (i32.mul (local.get $outer) (local.get $groups))))
      (local.set $o (i32.div_u (local.get $u) (local.get $groups)))
      (local.set $c0 (i32.mul (i32.rem_u (local.get $u) (local.get $groups)) (i32.const ${REDUCE_COLUMNS})))
      (if (i32.le_u (i32.add (local.get $c0) (i32.const ${REDUCE_COLUMNS})) (local.get $inner))
        (then
          ${range.map((j) => `(local.set ${acc(j)} (f64x2.splat (local.get $init)))`).join('\n          ')}
          (local.set $m (i32.const 0))
          (block $md (loop $mn
            (br_if $md (i32.ge_u (local.get $m) (local.get $mid)))
            (local.set $p (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $o) (local.get $mid)) (local.get $m)) (local.get $inner)) (local.get $c0)) (i32.const 2))))
            ${range.map(foldPair).join('\n            ')}
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $mn)))
          (local.set $q (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $inner)) (local.get $c0)) (i32.const 2))))
          ${range.map(finish).join('\n          ')})
        (else
          (local.set $c (local.get $c0))
          (block $cd (loop $cn
            (br_if $cd (i32.ge_u (local.get $c) (local.get $inner)))
            (local.set $s (local.get $init))
            (local.set $m (i32.const 0))
            (block $sd (loop $sn
              (br_if $sd (i32.ge_u (local.get $m) (local.get $mid)))
              (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $a) (i32.shl
                (i32.add (i32.mul (i32.add (i32.mul (local.get $o) (local.get $mid)) (local.get $m)) (local.get $inner)) (local.get $c)) (i32.const 2))))))
              (local.set $s (if (result f64) (i32.eq (local.get $op) (i32.const 2)) (then (f64.max (local.get $s) (local.get $x))) (else (f64.add (local.get $s) (local.get $x)))))
              (local.set $m (i32.add (local.get $m) (i32.const 1)))
              (br $sn)))
            (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $inner)) (local.get $c)) (i32.const 2)))
              (f32.demote_f64 (select (f64.div (local.get $s) (f64.convert_i32_u (local.get $mid))) (local.get $s) (i32.eq (local.get $op) (i32.const 1)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cn)))))
      (br $more))))`;
})();

export const backwardKernels = [layerNormRows, layerNormParams, softmaxBackward, embeddingBackward, reduceKernel].join('\n');

/**
 * WebAssembly text of the matmul (`mm`) and its register block. Numerics: every output element is
 * a float32 sum over k in order t = 0, 1, …, by fused multiply-add (relaxed SIMD) or mul + add,
 * from +0, in slices of KC (a later slice adds its partial sum to the stored one), then scaled by
 * alpha (and added to out when accumulating), then the epilogue. The blocking below decides only
 * which outputs are computed together, never that order, so retuning it keeps results bitwise.
 */

/**
 * Row panel height and column panel width of the register block (6 × 8 = 12 f32x4 accumulators).
 * MR = 6 is also spelt out in the transposed-A packing (16 + 8 bytes per k step).
 */
export const MR = 6;
export const NR = 8;
/** Row panels run against one column panel of B while it is in L1. */
export const MC_PANELS = 8;
/** k slice: a B panel slice is 8·KC floats (8 KiB), A panel slices MR·KC each, so both stay in L1/L2 for any k. */
const KC = 256;

/**
 * The MR × 8 register block: 12 f32x4 accumulators over k, 15 vector registers live with the two
 * B vectors and the A splat (x64 has 16; V8 keeps one as scratch). A comes packed [k][MR] (one
 * pointer, immediate offsets), B packed [k][8]. 4 × 8 with A read in place through four row
 * pointers did 8 FMAs per 6 loads and 6 pointer updates per k step; 6 × 8 does 12 per 8 and 2.
 */
export function microKernel(fma: boolean): string {
  // a·b + c: one fused relaxed-SIMD instruction where the engine has it, else mul then add
  const madd = (a: string, b: string, c: string): string => (fma ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`);
  const acc = (r: number, h: number): string => `$c${r}${h}`;
  const rows = [...Array(MR).keys()];
  const zero: string[] = [];
  const body: string[] = [];
  for (const r of rows) for (let h = 0; h < 2; h++) zero.push(`(local.set ${acc(r, h)} (v128.const i32x4 0 0 0 0))`);
  body.push('(local.set $b0 (v128.load (local.get $bp)))');
  body.push('(local.set $b1 (v128.load offset=16 (local.get $bp)))');
  for (const r of rows) {
    body.push(`(local.set $av (v128.load32_splat offset=${4 * r} (local.get $ap)))`);
    for (let h = 0; h < 2; h++) {
      body.push(`(local.set ${acc(r, h)} ${madd('(local.get $av)', `(local.get $b${h})`, `(local.get ${acc(r, h)})`)})`);
    }
  }
  const store: string[] = [];
  for (const r of rows) {
    for (let h = 0; h < 2; h++) {
      const addr = `(i32.add (local.get $cp) (i32.const ${h * 16}))`;
      store.push(`(local.set $v (f32x4.mul (local.get ${acc(r, h)}) (local.get $alv)))
          (if (local.get $accum) (then (local.set $v (f32x4.add (local.get $v) (v128.load ${addr})))))
          (if (local.get $bias) (then (local.set $v (f32x4.add (local.get $v) (local.get $bv${h})))))
          (if (local.get $gelu) (then (local.set $v (call $geluv (local.get $v)))))
          (v128.store ${addr} (local.get $v))`);
    }
    store.push('(local.set $cp (i32.add (local.get $cp) (local.get $nbytes)))');
  }
  const spill = rows.flatMap((r) => [0, 1].map((h) => `(v128.store offset=${(r * NR + h * 4) * 4} (local.get $tile) (local.get ${acc(r, h)}))`));
  return `
  (func $block (param $ap i32) (param $bp i32) (param $k i32) (param $cp i32) (param $nbytes i32) (param $rows i32) (param $cols i32)
    (param $alpha f32) (param $accum i32) (param $tile i32) (param $bias i32) (param $gelu i32)
    (local $t i32) (local $b0 v128) (local $b1 v128) (local $av v128) (local $v v128) (local $alv v128) (local $bv0 v128) (local $bv1 v128)
    (local $r i32) (local $j i32) (local $q i32) (local $s f32)
    ${rows.flatMap((r) => [0, 1].map((h) => `(local ${acc(r, h)} v128)`)).join(' ')}
    ${zero.join('\n    ')}
    (local.set $t (local.get $k))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $t)))
      ${body.join('\n      ')}
      (local.set $ap (i32.add (local.get $ap) (i32.const ${4 * MR})))
      (local.set $bp (i32.add (local.get $bp) (i32.const ${4 * NR})))
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (br $next)))
    (local.set $alv (f32x4.splat (local.get $alpha)))
    (if (i32.and (i32.eq (local.get $rows) (i32.const ${MR})) (i32.eq (local.get $cols) (i32.const ${NR})))
      (then
        (if (local.get $bias) (then (local.set $bv0 (v128.load (local.get $bias))) (local.set $bv1 (v128.load offset=16 (local.get $bias)))))
          ${store.join('\n          ')}
        (return)))
    ${spill.join('\n    ')}
    (local.set $r (i32.const 0))
    (block $rd (loop $rn
      (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jn
        (br_if $jd (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $q (i32.add (local.get $cp) (i32.add (i32.mul (local.get $r) (local.get $nbytes)) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $s (f32.mul (local.get $alpha)
          (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2))))))
        (if (local.get $accum) (then (local.set $s (f32.add (local.get $s) (f32.load (local.get $q))))))
        (if (local.get $bias) (then (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
        ;; a splat through the vector GELU, as the unary kernel's scalar tail does
        (if (local.get $gelu) (then (local.set $s (f32x4.extract_lane 0 (call $geluv (f32x4.splat (local.get $s)))))))
        (f32.store (local.get $q) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jn)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rn))))`;
}

/** i8x16.shuffle byte indices picking f32 lanes (0–3 from the first operand, 4–7 from the second). */
const lanes = (...picked: number[]): string => picked.flatMap((lane) => [0, 1, 2, 3].map((byte) => 4 * lane + byte)).join(' ');

/** Transposes the 4 × 4 block in rows $r{first}..$r{first+3} and stores its columns at $dst + 32·t + half·16. */
function transposeStore(first: number, half: number): string {
  const r = (i: number): string => `(local.get $r${first + i})`;
  return `(local.set $x0 (i8x16.shuffle ${lanes(0, 4, 1, 5)} ${r(0)} ${r(1)}))
              (local.set $x1 (i8x16.shuffle ${lanes(2, 6, 3, 7)} ${r(0)} ${r(1)}))
              (local.set $x2 (i8x16.shuffle ${lanes(0, 4, 1, 5)} ${r(2)} ${r(3)}))
              (local.set $x3 (i8x16.shuffle ${lanes(2, 6, 3, 7)} ${r(2)} ${r(3)}))
              (v128.store offset=${half * 16} (local.get $dst) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $x0) (local.get $x2)))
              (v128.store offset=${32 + half * 16} (local.get $dst) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $x0) (local.get $x2)))
              (v128.store offset=${64 + half * 16} (local.get $dst) (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $x1) (local.get $x3)))
              (v128.store offset=${96 + half * 16} (local.get $dst) (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $x1) (local.get $x3)))`;
}

/** Loads rows $r0..$r7 of a transposed B panel: 4 floats each, $rs bytes apart from $pr. */
const rowLoads = [...Array(8).keys()]
  .map((r) => `(local.set $r${r} (v128.load (local.get $pr)))${r < 7 ? ' (local.set $pr (i32.add (local.get $pr) (local.get $rs)))' : ''}`)
  .join('\n                  ');

/**
 * Vector packing of a full column panel (8 columns inside n) of B; the scalar loop after it packs
 * what is left (partial panels, k tails, other strides). Row-major B (bcs = 1): two vector copies per
 * t. Transposed B (brs = 1, the weights of x·Wᵀ): 4 consecutive t of 8 rows, two 4 × 4 transposes.
 * Packing is a copy, so it cannot change a result; done scalar it cost about 12 instructions per
 * element, and every thread packs all of B.
 */
const packFullPanel = `(if (i32.le_u (i32.shl (i32.add (local.get $jb) (i32.const 1)) (i32.const 3)) (local.get $n)) (then
            (if (i32.eq (local.get $bcs) (i32.const 1))
              (then
                (local.set $pr (i32.add (local.get $b) (i32.shl (i32.add (local.get $base) (i32.shl (local.get $jb) (i32.const 3))) (i32.const 2))))
                (local.set $rs (i32.shl (local.get $brs) (i32.const 2)))
                (block $vd (loop $vn
                  (br_if $vd (i32.ge_u (local.get $t) (local.get $k)))
                  (v128.store (local.get $dst) (v128.load (local.get $pr)))
                  (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $pr)))
                  (local.set $pr (i32.add (local.get $pr) (local.get $rs)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br $vn))))
              (else (if (i32.eq (local.get $brs) (i32.const 1)) (then
                (local.set $rs (i32.shl (local.get $bcs) (i32.const 2)))
                (block $vd (loop $vn
                  (br_if $vd (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $k)))
                  (local.set $pr (i32.add (local.get $b) (i32.shl (i32.add (i32.add (local.get $base)
                    (i32.mul (i32.shl (local.get $jb) (i32.const 3)) (local.get $bcs))) (local.get $t)) (i32.const 2))))
                  ${rowLoads}
                  ${transposeStore(0, 0)}
                  ${transposeStore(4, 1)}
                  (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
                  (local.set $t (i32.add (local.get $t) (i32.const 4)))
                  (br $vn)))))))))`;

/**
 * mm: out[p] = alpha·op(A[p])·op(B[p]) (+ out[p]) for p < batch, then (epilogue, when given)
 * out[p][i, j] ← GELU(out[p][i, j] + bias[j]): the same float32 operations, in the same order, as
 * the bin_rows_add and un_gelu kernels applied afterwards, without their passes over out.
 * Element (i, t) of A[p] is at a + 4·(p·abs + i·ars + t·acs), element (t, j) of B[p] at
 * b + 4·(p·bbs + t·brs + j·bcs), so one kernel covers all transpose flags and broadcast strides.
 * Work units are (p, row panel of MR) pairs grabbed by the threads; each thread packs B[p] into its
 * own scratch ([n/8][k][8], zero padded) whenever p changes, and up to MC_PANELS row panels of A
 * ([k][MR] each, zero padded) at a time.
 * Scratch per thread: 4·(roundup(n,8)·k + MC_PANELS·MR·k + MR·8) bytes.
 */
export const matmulKernel = `
  (func (export "mm") (param $a i32) (param $b i32) (param $out i32) (param $batch i32) (param $m i32) (param $n i32) (param $k i32)
    (param $ars i32) (param $acs i32) (param $abs i32) (param $brs i32) (param $bcs i32) (param $bbs i32)
    (param $alpha f32) (param $accum i32) (param $scratch i32) (param $sstride i32) (param $bias i32) (param $gelu i32) (param $tid i32) (param $nt i32)
    (local $mb i32) (local $nb i32) (local $u i32) (local $uend i32) (local $p i32) (local $cur i32) (local $ib i32)
    (local $cnt i32) (local $bpk i32) (local $apk i32) (local $tile i32) (local $jb i32) (local $t i32) (local $jj i32)
    (local $j i32) (local $i i32) (local $q i32) (local $dst i32) (local $src i32) (local $base i32) (local $rows i32) (local $cols i32)
    (local $chunk i32) (local $total i32) (local $t0 i32) (local $kc i32) (local $lastSlice i32) (local $r i32) (local $step i32)
    (local $rs i32) (local $pr i32) ${[...Array(8).keys()].map((r) => `(local $r${r} v128)`).join(' ')} ${[0, 1, 2, 3].map((x) => `(local $x${x} v128)`).join(' ')}
    (local.set $mb (i32.div_u (i32.add (local.get $m) (i32.const ${MR - 1})) (i32.const ${MR})))
    (local.set $nb (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (local.set $bpk (i32.add (local.get $scratch) (i32.mul (local.get $tid) (local.get $sstride))))
    (local.set $apk (i32.add (local.get $bpk) (i32.shl (i32.mul (i32.mul (local.get $nb) (local.get $k)) (i32.const 8)) (i32.const 2))))
    (local.set $tile (i32.add (local.get $apk) (i32.shl (i32.mul (local.get $k) (i32.const ${MC_PANELS * MR})) (i32.const 2))))
    (local.set $step (i32.shl (local.get $acs) (i32.const 2)))
    ;; batched products (attention) grab whole items so B[p] is packed once; single ones MC_PANELS panels
    (local.set $chunk (select (local.get $mb) (i32.const ${MC_PANELS}) (i32.ge_u (local.get $batch) (i32.const 4))))
    (local.set $total (i32.mul (local.get $batch) (local.get $mb)))
    (local.set $cur (i32.const -1))
    (block $gall (loop $gmore
    (local.set $u (call $grab (local.get $chunk)))
    (br_if $gall (i32.ge_u (local.get $u) (local.get $total)))
    (local.set $uend (i32.add (local.get $u) (local.get $chunk)))
    (if (i32.gt_u (local.get $uend) (local.get $total)) (then (local.set $uend (local.get $total))))
    (block $udone (loop $unext
      (br_if $udone (i32.ge_u (local.get $u) (local.get $uend)))
      (local.set $p (i32.div_u (local.get $u) (local.get $mb)))
      (local.set $ib (i32.rem_u (local.get $u) (local.get $mb)))
      ;; panels in this chunk: up to MC_PANELS, not past this batch item or this thread's range
      (local.set $cnt (i32.sub (local.get $mb) (local.get $ib)))
      (if (i32.gt_u (local.get $cnt) (i32.sub (local.get $uend) (local.get $u))) (then (local.set $cnt (i32.sub (local.get $uend) (local.get $u)))))
      (if (i32.gt_u (local.get $cnt) (i32.const ${MC_PANELS})) (then (local.set $cnt (i32.const ${MC_PANELS}))))
      (if (i32.ne (local.get $p) (local.get $cur)) (then
        (local.set $cur (local.get $p))
        ;; pack B[p]: dst[(jb·k + t)·8 + jj] = B(t, jb·8 + jj) or 0
        (local.set $dst (local.get $bpk))
        (local.set $base (i32.mul (local.get $p) (local.get $bbs)))
        (local.set $jb (i32.const 0))
        (block $bd (loop $bn
          (br_if $bd (i32.ge_u (local.get $jb) (local.get $nb)))
          (local.set $t (i32.const 0))
          ${packFullPanel}
          (block $td (loop $tn
            (br_if $td (i32.ge_u (local.get $t) (local.get $k)))
            (local.set $jj (i32.const 0))
            (block $jd (loop $jn
              (br_if $jd (i32.ge_u (local.get $jj) (i32.const 8)))
              (local.set $j (i32.add (i32.shl (local.get $jb) (i32.const 3)) (local.get $jj)))
              (f32.store (local.get $dst) (if (result f32) (i32.lt_u (local.get $j) (local.get $n))
                (then (f32.load (i32.add (local.get $b) (i32.shl (i32.add (local.get $base)
                  (i32.add (i32.mul (local.get $t) (local.get $brs)) (i32.mul (local.get $j) (local.get $bcs)))) (i32.const 2)))))
                (else (f32.const 0))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
              (br $jn)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tn)))
          (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
          (br $bn)))))
      ;; pack the chunk's A panels, row by row: dst[(q·k + t)·MR + r] = A(i0 + r, t), 0 past row m
      (local.set $base (i32.mul (local.get $p) (local.get $abs)))
      (local.set $q (i32.const 0))
      (block $qd (loop $qn
        (br_if $qd (i32.ge_u (local.get $q) (local.get $cnt)))
        (local.set $i (i32.mul (i32.add (local.get $ib) (local.get $q)) (i32.const ${MR})))
        (local.set $r (i32.const 0))
        ;; transposed A (ars = 1), full panel: its MR floats of step t are adjacent, one vector and one
        ;; 8-byte copy per t
        (if (i32.and (i32.eq (local.get $ars) (i32.const 1)) (i32.le_u (i32.add (local.get $i) (i32.const ${MR})) (local.get $m))) (then
          (local.set $dst (i32.add (local.get $apk) (i32.shl (i32.mul (i32.mul (local.get $q) (local.get $k)) (i32.const ${MR})) (i32.const 2))))
          (local.set $src (i32.add (local.get $a) (i32.shl (i32.add (local.get $base) (local.get $i)) (i32.const 2))))
          (local.set $t (local.get $k))
          (block $td (loop $tn
            (br_if $td (i32.eqz (local.get $t)))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (i64.store offset=16 (local.get $dst) (i64.load offset=16 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $step)))
            (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * MR})))
            (local.set $t (i32.sub (local.get $t) (i32.const 1)))
            (br $tn)))
          (local.set $r (i32.const ${MR}))))
        (block $rd (loop $rn
          (br_if $rd (i32.ge_u (local.get $r) (i32.const ${MR})))
          (local.set $dst (i32.add (local.get $apk) (i32.shl (i32.add (i32.mul (i32.mul (local.get $q) (local.get $k)) (i32.const ${MR})) (local.get $r)) (i32.const 2))))
          (local.set $src (i32.add (local.get $a) (i32.shl (i32.add (local.get $base) (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $ars))) (i32.const 2))))
          (local.set $t (local.get $k))
          (if (i32.lt_u (i32.add (local.get $i) (local.get $r)) (local.get $m))
            (then
              (block $td (loop $tn
                (br_if $td (i32.eqz (local.get $t)))
                (f32.store (local.get $dst) (f32.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $step)))
                (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * MR})))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tn))))
            (else
              (block $td (loop $tn
                (br_if $td (i32.eqz (local.get $t)))
                (f32.store (local.get $dst) (f32.const 0))
                (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * MR})))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tn)))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rn)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $qn)))
      ;; blocks: k in slices of KC; per slice, each column panel against all row panels of the chunk
      ;; (the B slice, 8·KC floats, stays in L1); slices after the first accumulate into out
      (local.set $t0 (i32.const 0))
      (loop $kn
      (local.set $kc (i32.sub (local.get $k) (local.get $t0)))
      (if (i32.gt_u (local.get $kc) (i32.const ${KC})) (then (local.set $kc (i32.const ${KC}))))
      (local.set $lastSlice (i32.ge_u (i32.add (local.get $t0) (i32.const ${KC})) (local.get $k)))
      (local.set $jb (i32.const 0))
      (block $bd (loop $bn
        (br_if $bd (i32.ge_u (local.get $jb) (local.get $nb)))
        (local.set $cols (i32.sub (local.get $n) (i32.shl (local.get $jb) (i32.const 3))))
        (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
        (local.set $q (i32.const 0))
        (block $qd (loop $qn
          (br_if $qd (i32.ge_u (local.get $q) (local.get $cnt)))
          (local.set $i (i32.mul (i32.add (local.get $ib) (local.get $q)) (i32.const ${MR})))
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (if (i32.gt_u (local.get $rows) (i32.const ${MR})) (then (local.set $rows (i32.const ${MR}))))
          (call $block
            (i32.add (local.get $apk) (i32.shl (i32.mul (i32.add (i32.mul (local.get $q) (local.get $k)) (local.get $t0)) (i32.const ${MR})) (i32.const 2)))
            (i32.add (local.get $bpk) (i32.shl (i32.add (i32.mul (local.get $jb) (local.get $k)) (local.get $t0)) (i32.const 5)))
            (local.get $kc)
            (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $p) (local.get $m)) (local.get $i)) (local.get $n))
              (i32.shl (local.get $jb) (i32.const 3))) (i32.const 2)))
            (i32.shl (local.get $n) (i32.const 2)) (local.get $rows) (local.get $cols) (local.get $alpha)
            (i32.or (local.get $accum) (i32.ne (local.get $t0) (i32.const 0))) (local.get $tile)
            ;; the epilogue (bias, then GELU) once the last k slice has been added
            (select (i32.add (local.get $bias) (i32.shl (local.get $jb) (i32.const 5))) (i32.const 0)
              (i32.and (local.get $lastSlice) (i32.ne (local.get $bias) (i32.const 0))))
            (i32.and (local.get $lastSlice) (local.get $gelu)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $qn)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
        (br $bn)))
      (local.set $t0 (i32.add (local.get $t0) (i32.const ${KC})))
      (br_if $kn (i32.lt_u (local.get $t0) (local.get $k))))
      (local.set $u (i32.add (local.get $u) (local.get $cnt)))
      (br $unext)))
    (br $gmore))))`;

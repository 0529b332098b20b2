/**
 * WebAssembly text of the wasm backend's kernels, generated here so that unrolled register blocks
 * and per-op variants are written once. Assembled at load time by wabt (see module.ts).
 *
 * Every kernel takes byte addresses into the shared memory plus (tid, nt) and takes its work in
 * chunks from a shared atomic counter (`grab`), so the same call runs on the main thread and on
 * each worker that joins; tid only selects per-thread scratch.
 *
 * Numerics (all float32, SIMD f32x4):
 * - matmul: per-output float32 accumulation over k (the cpu oracle accumulates in float64), by
 *   relaxed-SIMD fused multiply-add where available (kernelModuleText's `fma`), else mul + add;
 *   |error| ≤ k·2⁻²⁴·Σ|a||b| either way (standard dot-product bound).
 * - exp: Cephes expf (range reduction by ln 2, degree-6 polynomial), relative error ≤ 2e-7 on
 *   [-87.3, 88.3]; arguments outside are clamped (results 1.1e-38 … 2.4e38 instead of 0/∞).
 * - log (Box–Muller radius only): Cephes logf polynomial on an exactly reduced argument
 *   (integers carry the 25-bit uniform so u near 1 loses nothing), relative error ≤ 2e-7.
 * - sin/cos (Box–Muller angle): exact integer reduction of the turn to an octant, Cephes
 *   sinf/cosf minimax polynomials on [-π/4, π/4], absolute error ≤ 1e-7.
 *   Hence a normal z differs from the float64 oracle by ≤ 1e-6·max(1, |z|).
 * - GELU (tanh form) as x / (1 + exp(−2u)), u = √(2/π)(x + 0.044715x³), the identity
 *   ½(1 + tanh u) = 1/(1 + e^{−2u}); no cancellation, relative error ≤ 5e-7.
 */

import { backwardKernels } from './watBackward.ts';
import { crossEntropyKernels } from './watCrossEntropy.ts';
import { libmFunctions } from './watLibm.ts';
import { float64Kernels } from './watFloat64.ts';
import { matmulKernel, microKernel } from './watMatmul.ts';

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
const KEY_PARITY = 0x1bd11bda;

const literal = (x: number): string => (x === -Infinity ? '-inf' : x === Infinity ? 'inf' : String(x));
const vf = (x: number): string => `(f32x4.splat (f32.const ${literal(x)}))`;

/**
 * Dynamic work split: every thread takes the next `chunk` units from the shared counter at
 * address 0 (reset by the pool before each call) until none are left. A thread the OS deschedules
 * holds up at most one chunk, which matters on a shared 2-core machine.
 */
const grab = `
  (func $grab (param $chunk i32) (result i32)
    (i32.atomic.rmw.add (i32.const 0) (local.get $chunk)))`;

/** Cephes expf on f32x4. */
const expV = `
  (func $expv (param $x v128) (result v128) (local $n v128) (local $r v128) (local $p v128)
    ;; pmin/pmax are single instructions (min/max carry NaN/±0 rules that cost ~6); with x as the
    ;; first operand a NaN passes through both
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) ${vf(-87.3)}) ${vf(88.3)}))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) ${vf(1.44269504088896341)})))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) ${vf(0.693359375)}))
      (f32x4.mul (local.get $n) ${vf(-2.12194440e-4)})))
    (local.set $p ${vf(1.9875691500e-4)})
    ${[1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]
      .map((c) => `(local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) ${vf(c)}))`).join('\n    ')}
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r)))
      (local.get $r)) ${vf(1)}))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))`;

/**
 * $expv2: $expv on two vectors with the statements interleaved (two independent dependency
 * chains the CPU can overlap); returns both results.
 */
function expInterleaved(): string {
  const forms = topLevelForms(expV);
  const inner = topLevelForms(forms[0]!.slice(1, -1));
  const locals = inner.filter((f) => f.startsWith('(local ') || f.startsWith('(param ')).map((f) => /\$(\w+)/.exec(f)![1]!);
  const body = inner.filter((f) => !/^\((local|param|result) /.test(f));
  const rename = (form: string, suffix: string): string =>
    form.replace(/\$(\w+)/g, (whole, name: string) => (locals.includes(name) ? `$${name}_${suffix}` : whole));
  const lines = body.flatMap((form) => [rename(form, 'a'), rename(form, 'b')]);
  const declared = locals.filter((name) => name !== 'x').flatMap((name) => [`(local $${name}_a v128)`, `(local $${name}_b v128)`]);
  return `
  (func $expv2 (param $x_a v128) (param $x_b v128) (result v128 v128)
    ${declared.join(' ')}
    ${lines.join('\n    ')})`;
}

const geluV2 = `
  (func $geluv2 (param $x_a v128) (param $x_b v128) (result v128 v128) (local $e_a v128) (local $e_b v128)
    (call $expv2
      ${['a', 'b'].map((h) => `(f32x4.mul ${vf(-2 * Math.sqrt(2 / Math.PI))}
        (f32x4.add (local.get $x_${h}) (f32x4.mul ${vf(0.044715)}
          (f32x4.mul (local.get $x_${h}) (f32x4.mul (local.get $x_${h}) (local.get $x_${h}))))))`).join('\n      ')})
    (local.set $e_b)
    (local.set $e_a)
    (f32x4.div (local.get $x_a) (f32x4.add ${vf(1)} (local.get $e_a)))
    (f32x4.div (local.get $x_b) (f32x4.add ${vf(1)} (local.get $e_b))))`;

/** GELU (tanh form) on f32x4, as x / (1 + exp(−2u)). */
const geluV = `
  (func $geluv (param $x v128) (result v128) (local $u v128)
    (local.set $u (f32x4.mul ${vf(-2 * Math.sqrt(2 / Math.PI))}
      (f32x4.add (local.get $x) (f32x4.mul ${vf(0.044715)}
        (f32x4.mul (local.get $x) (f32x4.mul (local.get $x) (local.get $x)))))))
    (f32x4.div (local.get $x) (f32x4.add ${vf(1)} (call $expv (local.get $u)))))`;

/**
 * Box–Muller normals of 4 Threefry blocks (counters c0..c0+3, key (seed, stream)). Returns the
 * cosine-branch normals in $zc and sine-branch normals in $zs (globals, to return two vectors).
 */
function threefryRounds(): string {
  const lines: string[] = [];
  for (let round = 0; round < 20; round++) {
    const r = ROTATIONS[round % 8]!;
    lines.push(`(local.set $x0 (i32x4.add (local.get $x0) (local.get $x1)))`);
    lines.push(`(local.set $x1 (v128.xor (v128.or (i32x4.shl (local.get $x1) (i32.const ${r})) (i32x4.shr_u (local.get $x1) (i32.const ${32 - r}))) (local.get $x0)))`);
    if (round % 4 === 3) {
      const s = (round + 1) / 4;
      lines.push(`(local.set $x0 (i32x4.add (local.get $x0) (local.get $ks${s % 3})))`);
      lines.push(`(local.set $x1 (i32x4.add (local.get $x1) (i32x4.add (local.get $ks${(s + 1) % 3}) (i32x4.splat (i32.const ${s})))))`);
    }
  }
  return lines.join('\n    ');
}

const LOG_COEFFS = [
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
];

const normalsV = `
  (global $zc (mut v128) (v128.const i32x4 0 0 0 0))
  (global $zs (mut v128) (v128.const i32x4 0 0 0 0))
  (func $normals4 (param $c0 i32) (param $seed i32) (param $stream i32)
    (local $x0 v128) (local $x1 v128) (local $ks0 v128) (local $ks1 v128) (local $ks2 v128)
    (local $t v128) (local $big v128) (local $hi v128) (local $fs v128) (local $fe v128)
    (local $bits v128) (local $e v128) (local $m v128) (local $small v128) (local $fv v128) (local $z v128)
    (local $y v128) (local $rad v128) (local $w v128) (local $q v128) (local $a v128) (local $s v128) (local $c v128)
    (local.set $ks0 (i32x4.splat (local.get $seed)))
    (local.set $ks1 (i32x4.splat (local.get $stream)))
    (local.set $ks2 (v128.xor (i32x4.splat (i32.const ${KEY_PARITY})) (v128.xor (local.get $ks0) (local.get $ks1))))
    (local.set $x0 (i32x4.add (i32x4.add (i32x4.splat (local.get $c0)) (v128.const i32x4 0 1 2 3)) (local.get $ks0)))
    (local.set $x1 (local.get $ks1))
    ${threefryRounds()}
    ;; radius: u1 = t·2^-25 with t = 2·(bits>>>8)+1 odd; reduce u1 = 2^e·(1+f), f exact (see header)
    (local.set $t (v128.or (i32x4.shr_u (local.get $x0) (i32.const 7)) (i32x4.splat (i32.const 1))))
    ;; large t (u ≥ 0.5): f from integers
    (local.set $big (i32x4.ge_s (local.get $t) (i32x4.splat (i32.const 16777216))))
    (local.set $hi (i32x4.ge_s (local.get $t) (i32x4.splat (i32.const 23726566))))
    (local.set $fs (v128.bitselect
      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $t) (i32x4.splat (i32.const 33554432)))) ${vf(2 ** -25)})
      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $t) (i32x4.splat (i32.const 16777216)))) ${vf(2 ** -24)})
      (local.get $hi)))
    (local.set $fe (v128.bitselect (f32x4.splat (f32.const 0)) (f32x4.splat (f32.const -1)) (local.get $hi)))
    ;; small t: u exact in float32, frexp-style reduction to [√½, √2)
    (local.set $bits (f32x4.mul (f32x4.convert_i32x4_s (local.get $t)) ${vf(2 ** -25)}))
    (local.set $e (i32x4.sub (i32x4.shr_u (local.get $bits) (i32.const 23)) (i32x4.splat (i32.const 126))))
    (local.set $m (v128.or (v128.and (local.get $bits) (i32x4.splat (i32.const 0x7fffff))) (i32x4.splat (i32.const 0x3f000000))))
    (local.set $small (f32x4.lt (local.get $m) ${vf(0.707106781186547524)}))
    (local.set $e (i32x4.add (local.get $e) (local.get $small)))
    (local.set $m (v128.bitselect (f32x4.add (local.get $m) (local.get $m)) (local.get $m) (local.get $small)))
    (local.set $fv (v128.bitselect (local.get $fs) (f32x4.sub (local.get $m) ${vf(1)}) (local.get $big)))
    (local.set $e (v128.bitselect (local.get $fe) (f32x4.convert_i32x4_s (local.get $e)) (local.get $big)))
    (local.set $z (f32x4.mul (local.get $fv) (local.get $fv)))
    (local.set $y ${vf(LOG_COEFFS[0]!)})
    ${LOG_COEFFS.slice(1).map((c) => `(local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $fv)) ${vf(c)}))`).join('\n    ')}
    (local.set $y (f32x4.mul (local.get $y) (f32x4.mul (local.get $fv) (local.get $z))))
    (local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $e) ${vf(-2.12194440e-4)})))
    (local.set $y (f32x4.sub (local.get $y) (f32x4.mul (local.get $z) ${vf(0.5)})))
    (local.set $y (f32x4.add (f32x4.add (local.get $fv) (local.get $y)) (f32x4.mul (local.get $e) ${vf(0.693359375)})))
    (local.set $rad (f32x4.sqrt (f32x4.mul (local.get $y) ${vf(-2)})))
    ;; angle: turn w = u2 − round(u2) in integer units of 2^-25, quadrant q, remainder in [-1/8, 1/8] turn
    (local.set $w (v128.or (i32x4.shr_u (local.get $x1) (i32.const 7)) (i32x4.splat (i32.const 1))))
    (local.set $w (i32x4.sub (local.get $w)
      (v128.and (i32x4.ge_s (local.get $w) (i32x4.splat (i32.const 16777216))) (i32x4.splat (i32.const 33554432)))))
    (local.set $q (i32x4.shr_s (i32x4.add (local.get $w) (i32x4.splat (i32.const 4194304))) (i32.const 23)))
    (local.set $a (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $w) (i32x4.shl (local.get $q) (i32.const 23))))
      ${vf((2 * Math.PI) * 2 ** -25)}))
    (local.set $z (f32x4.mul (local.get $a) (local.get $a)))
    (local.set $s (f32x4.add (f32x4.mul (f32x4.mul (local.get $z) (local.get $a))
      (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul ${vf(-1.9515295891e-4)} (local.get $z)) ${vf(8.3321608736e-3)}) (local.get $z)) ${vf(-1.6666654611e-1)}))
      (local.get $a)))
    (local.set $c (f32x4.add (f32x4.sub
      (f32x4.mul (f32x4.mul (local.get $z) (local.get $z))
        (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul ${vf(2.443315711809948e-5)} (local.get $z)) ${vf(-1.388731625493765e-3)}) (local.get $z)) ${vf(4.166664568298827e-2)}))
      (f32x4.mul (local.get $z) ${vf(0.5)})) ${vf(1)}))
    ;; rotate by quadrant: q&1 swaps (c, s) → (−s, c); q&2 negates both
    (local.set $q (v128.and (local.get $q) (i32x4.splat (i32.const 3))))
    (local.set $small (i32x4.eq (v128.and (local.get $q) (i32x4.splat (i32.const 1))) (i32x4.splat (i32.const 1))))
    (local.set $x0 (v128.bitselect (f32x4.neg (local.get $s)) (local.get $c) (local.get $small)))
    (local.set $x1 (v128.bitselect (local.get $c) (local.get $s) (local.get $small)))
    (local.set $small (i32x4.shl (i32x4.shr_u (local.get $q) (i32.const 1)) (i32.const 31)))
    (global.set $zc (f32x4.mul (local.get $rad) (v128.xor (local.get $x0) (local.get $small))))
    (global.set $zs (f32x4.mul (local.get $rad) (v128.xor (local.get $x1) (local.get $small)))))`;

/** Splits a WAT fragment into its top-level parenthesised forms (`;;` comments dropped). */
function topLevelForms(text: string): string[] {
  const clean = text.split('\n').map((line) => line.replace(/;;.*$/, '')).join('\n');
  const forms: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < clean.length; i++) {
    if (clean[i] === '(') {
      if (depth === 0) start = i;
      depth++;
    } else if (clean[i] === ')') {
      depth--;
      if (depth === 0) forms.push(clean.slice(start, i + 1));
    }
  }
  return forms;
}

/** Generators interleaved in $normalsN (929k normals, one thread, best of 20 on a loaded machine: 1 way 9.5 ms, 2 ways 3.6, 3 ways 3.2, 4 ways 3.2). */
export const NORMAL_WAYS = 3;
const WAY_SUFFIXES = ['a', 'b', 'c', 'd'].slice(0, NORMAL_WAYS);

/**
 * $normalsN: NORMAL_WAYS independent copies of $normals4 (counters c0, c0 + 4, …) with their
 * statements interleaved, results in $zc_a/$zs_a, $zc_b/$zs_b, … Threefry is one long dependency
 * chain; independent chains side by side let the core overlap them.
 */
function normalsInterleaved(): string {
  const forms = topLevelForms(normalsV.slice(normalsV.indexOf('(func $normals4')));
  const inner = topLevelForms(forms[0]!.slice(1, -1).replace(/^func \$normals4/, ''));
  const locals = inner.filter((f) => f.startsWith('(local ')).map((f) => /\$(\w+)/.exec(f)![1]!);
  const body = inner.filter((f) => !f.startsWith('(local ') && !f.startsWith('(param '));
  const shared = new Set(['ks0', 'ks1', 'ks2']);
  const rename = (form: string, suffix: string): string =>
    form.replace(/\$(\w+)/g, (whole, name: string) =>
      (locals.includes(name) && !shared.has(name)) || name === 'c0' || name === 'zc' || name === 'zs' ? `$${name}_${suffix}` : whole);
  const lines: string[] = [];
  for (const form of body) {
    if (/^\(local\.set \$ks\d/.test(form)) {
      lines.push(form);
      continue;
    }
    lines.push(...WAY_SUFFIXES.map((suffix) => rename(form, suffix)));
  }
  const declared = locals.flatMap((name) => (shared.has(name) ? [`(local $${name} v128)`] : WAY_SUFFIXES.map((x) => `(local $${name}_${x} v128)`)));
  return `
  ${WAY_SUFFIXES.map((x) => `(global $zc_${x} (mut v128) (v128.const i32x4 0 0 0 0)) (global $zs_${x} (mut v128) (v128.const i32x4 0 0 0 0))`).join('\n  ')}
  (func $normalsN (param $c0 i32) (param $seed i32) (param $stream i32) ${WAY_SUFFIXES.map((x) => `(local $c0_${x} i32)`).join(' ')}
    ${declared.join(' ')}
    ${WAY_SUFFIXES.map((x, i) => `(local.set $c0_${x} (i32.add (local.get $c0) (i32.const ${4 * i})))`).join('\n    ')}
    ${lines.join('\n    ')})`;
}

/** Stores (fill) or applies (decay·θ + scale·z) one group of 8 normals from globals zc/zs at $p + offset. */
function storeGroup(zc: string, zs: string, offset: number): string {
  return `(local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (global.get ${zc}) (global.get ${zs})))
      (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (global.get ${zc}) (global.get ${zs})))
      (if (local.get $fill)
        (then (v128.store offset=${offset} (local.get $p) (local.get $lo)) (v128.store offset=${offset + 16} (local.get $p) (local.get $hi)))
        (else
          (v128.store offset=${offset} (local.get $p) (f32x4.add (f32x4.mul (local.get $dv) (v128.load offset=${offset} (local.get $p))) (f32x4.mul (local.get $sv) (local.get $lo))))
          (v128.store offset=${offset + 16} (local.get $p) (f32x4.add (f32x4.mul (local.get $dv) (v128.load offset=${offset + 16} (local.get $p))) (f32x4.mul (local.get $sv) (local.get $hi))))))`;
}

/**
 * normals(dst, n8, seed, stream, block0, scale, decay, fill): elements [0, 8·n8) of dst are indices
 * 2·block0 + i of the stream; fill=1 writes z, otherwise dst ← decay·dst + scale·z.
 */
const normalsKernel = `
  (func (export "normals") (param $dst i32) (param $n8 i32) (param $seed i32) (param $stream i32)
    (param $block0 i32) (param $scale f32) (param $decay f32) (param $fill i32) (param $tid i32) (param $nt i32)
    (local $g i32) (local $end i32) (local $p i32) (local $lo v128) (local $hi v128) (local $sv v128) (local $dv v128)
    (local.set $sv (f32x4.splat (local.get $scale)))
    (local.set $dv (f32x4.splat (local.get $decay)))
    (block $all (loop $more
    (local.set $g (call $grab (i32.const 128)))
    (br_if $all (i32.ge_u (local.get $g) (local.get $n8)))
    (local.set $end (i32.add (local.get $g) (i32.const 128)))
    (if (i32.gt_u (local.get $end) (local.get $n8)) (then (local.set $end (local.get $n8))))
    ;; NORMAL_WAYS groups at a time through the interleaved generator, then single groups
    (block $done (loop $next
      (br_if $done (i32.gt_u (i32.add (local.get $g) (i32.const ${NORMAL_WAYS})) (local.get $end)))
      (call $normalsN (i32.add (local.get $block0) (i32.shl (local.get $g) (i32.const 2))) (local.get $seed) (local.get $stream))
      (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 5))))
      ${WAY_SUFFIXES.map((x, i) => storeGroup(`$zc_${x}`, `$zs_${x}`, 32 * i)).join('\n      ')}
      (local.set $g (i32.add (local.get $g) (i32.const ${NORMAL_WAYS})))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $g) (local.get $end)))
      (call $normals4 (i32.add (local.get $block0) (i32.shl (local.get $g) (i32.const 2))) (local.get $seed) (local.get $stream))
      (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $g) (i32.const 5))))
      ${storeGroup('$zc', '$zs', 0)}
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $next)))
    (br $more))))`;

/**
 * normals_few(dst, count, seed, stream, index0, scale, decay, fill): the same values as `normals`
 * for `count` elements starting at any stream index (odd starts, tails), one block per element,
 * so a fill is bitwise the same however it is chunked.
 */
const normalsFewKernel = `
  (func (export "normals_few") (param $dst i32) (param $count i32) (param $seed i32) (param $stream i32)
    (param $index0 i32) (param $scale f32) (param $decay f32) (param $fill i32) (param $tid i32) (param $nt i32)
    (local $e i32) (local $idx i32) (local $z f32) (local $p i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $e) (local.get $count)))
      (local.set $idx (i32.add (local.get $index0) (local.get $e)))
      (call $normals4 (i32.shr_u (local.get $idx) (i32.const 1)) (local.get $seed) (local.get $stream))
      (local.set $z (select (f32x4.extract_lane 0 (global.get $zs)) (f32x4.extract_lane 0 (global.get $zc))
        (i32.and (local.get $idx) (i32.const 1))))
      (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $e) (i32.const 2))))
      (if (local.get $fill)
        (then (f32.store (local.get $p) (local.get $z)))
        (else (f32.store (local.get $p) (f32.add (f32.mul (local.get $decay) (f32.load (local.get $p))) (f32.mul (local.get $scale) (local.get $z))))))
      (local.set $e (i32.add (local.get $e) (i32.const 1)))
      (br $next))))`;

/** Elements per grab of the flat kernels (a multiple of 4 keeps vector loads aligned). */
const FLAT_CHUNK = 4096;

/**
 * Elementwise map over [0, n), grabbed FLAT_CHUNK elements at a time: `vec` handles 4 elements
 * at byte offset $off, `scalar` one (the tail).
 */
function flatKernel(name: string, params: string, body: { vec: string; scalar: string; vec8?: string }, pre = ''): string {
  const eight = body.vec8 ? `
    (block $done8 (loop $next8
      (br_if $done8 (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end)))
      (local.set $off (i32.shl (local.get $i) (i32.const 2)))
      ${body.vec8}
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next8)))` : '';
  return `
  (func (export "${name}") (param $n i32) ${params} (param $tid i32) (param $nt i32)
    (local $i i32) (local $end i32) (local $off i32)
    ${pre}
    (block $all (loop $more
    (local.set $i (call $grab (i32.const ${FLAT_CHUNK})))
    (br_if $all (i32.ge_u (local.get $i) (local.get $n)))
    (local.set $end (i32.add (local.get $i) (i32.const ${FLAT_CHUNK})))
    (if (i32.gt_u (local.get $end) (local.get $n)) (then (local.set $end (local.get $n))))${eight}
    (block $done (loop $next
      (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
      (local.set $off (i32.shl (local.get $i) (i32.const 2)))
      ${body.vec}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $off (i32.shl (local.get $i) (i32.const 2)))
      ${body.scalar}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (br $more))))`;
}

const BINARY_V: Record<string, string> = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div', max: 'f32x4.max', min: 'f32x4.min' };
const BINARY_S: Record<string, string> = { add: 'f32.add', sub: 'f32.sub', mul: 'f32.mul', div: 'f32.div', max: 'f32.max', min: 'f32.min' };
export const WASM_BINARY_OPS = Object.keys(BINARY_V);

function binaryKernels(): string {
  const out: string[] = [];
  for (const op of WASM_BINARY_OPS) {
    const v = BINARY_V[op]!;
    const s = BINARY_S[op]!;
    // same-shape operands, split over elements
    out.push(flatKernel(`bin_flat_${op}`, '(param $a i32) (param $b i32) (param $o i32)', {
      vec: `(v128.store (i32.add (local.get $o) (local.get $off)) (${v} (v128.load (i32.add (local.get $a) (local.get $off))) (v128.load (i32.add (local.get $b) (local.get $off)))))`,
      scalar: `(f32.store (i32.add (local.get $o) (local.get $off)) (${s} (f32.load (i32.add (local.get $a) (local.get $off))) (f32.load (i32.add (local.get $b) (local.get $off)))))`,
    }));
    // rows of `inner` elements; b row base = (row / mid)·so + (row % mid)·sm, b step si ∈ {0, 1, other}
    out.push(`
  (func (export "bin_rows_${op}") (param $a i32) (param $b i32) (param $o i32) (param $mid i32) (param $inner i32)
    (param $so i32) (param $sm i32) (param $si i32) (param $rows i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32) (local $i i32) (local $pa i32) (local $po i32) (local $pb i32) (local $bv v128)
    ${rowGrab('$inner')}
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $pa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $r) (local.get $inner)) (i32.const 2))))
      (local.set $po (i32.add (local.get $o) (i32.shl (i32.mul (local.get $r) (local.get $inner)) (i32.const 2))))
      (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add
        (i32.mul (i32.div_u (local.get $r) (local.get $mid)) (local.get $so))
        (i32.mul (i32.rem_u (local.get $r) (local.get $mid)) (local.get $sm))) (i32.const 2))))
      (local.set $i (i32.const 0))
      (if (i32.eq (local.get $si) (i32.const 1)) (then
        (block $done (loop $next
          (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $inner)))
          (v128.store (local.get $po) (${v} (v128.load (local.get $pa)) (v128.load (local.get $pb))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
          (local.set $po (i32.add (local.get $po) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $next)))))
      (if (i32.eqz (local.get $si)) (then
        (local.set $bv (v128.load32_splat (local.get $pb)))
        (block $done (loop $next
          (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $inner)))
          (v128.store (local.get $po) (${v} (v128.load (local.get $pa)) (local.get $bv)))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $po (i32.add (local.get $po) (i32.const 16)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $next)))))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $inner)))
        (f32.store (local.get $po) (${s} (f32.load (local.get $pa)) (f32.load (local.get $pb))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $si) (i32.const 2))))
        (local.set $po (i32.add (local.get $po) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $gmore))))`);
  }
  return out.join('\n');
}

/** Unary maps with a SIMD form; the others (log, tanh, sign) stay on the float64 cpu loops. */
const UNARY_V: Record<string, string> = {
  neg: 'f32x4.neg $v',
  sqrt: 'f32x4.sqrt $v',
  rsqrt: `f32x4.div ${vf(1)} (f32x4.sqrt $v)`,
  square: 'f32x4.mul $v $v',
  abs: 'f32x4.abs $v',
  relu: `f32x4.max $v ${vf(0)}`,
  exp: 'call $expv $v',
  gelu: 'call $geluv $v',
  // 1/(1 + e^(−x)); $expv clamps its argument, so large |x| saturates to 0 or 1 without NaN
  sigmoid: `f32x4.div ${vf(1)} (f32x4.add ${vf(1)} (call $expv (f32x4.neg $v)))`,
};
export const WASM_UNARY_OPS = Object.keys(UNARY_V);

/** Unary maps with a two-vector interleaved form, used 8 elements at a time. */
const UNARY_PAIR: Record<string, string> = { exp: '$expv2', gelu: '$geluv2' };

function unaryKernels(): string {
  return WASM_UNARY_OPS.map((op) => {
    const expr = `(${UNARY_V[op]!.replaceAll('$v', '(local.get $v)')})`;
    const pair = UNARY_PAIR[op];
    return flatKernel(`un_${op}`, '(param $a i32) (param $o i32)', {
      vec8: pair && `(call ${pair} (v128.load (i32.add (local.get $a) (local.get $off))) (v128.load offset=16 (i32.add (local.get $a) (local.get $off))))
      (local.set $v)
      (v128.store offset=16 (i32.add (local.get $o) (local.get $off)) (local.get $v))
      (local.set $v)
      (v128.store (i32.add (local.get $o) (local.get $off)) (local.get $v))`,
      vec: `(local.set $v (v128.load (i32.add (local.get $a) (local.get $off))))
      (v128.store (i32.add (local.get $o) (local.get $off)) ${expr})`,
      // the scalar tail reuses the vector code on a splat so both agree bit for bit
      scalar: `(local.set $v (v128.load32_splat (i32.add (local.get $a) (local.get $off))))
      (f32.store (i32.add (local.get $o) (local.get $off)) (f32x4.extract_lane 0 ${expr}))`,
    }).replace('(local $off i32)', '(local $off i32) (local $v v128)');
  }).join('\n');
}

const affineKernels = [
  flatKernel('affine', '(param $a i32) (param $o i32) (param $alpha f32) (param $beta f32)', {
    vec: `(v128.store (i32.add (local.get $o) (local.get $off)) (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $off))) (local.get $av)) (local.get $bv)))`,
    scalar: `(f32.store (i32.add (local.get $o) (local.get $off)) (f32.add (f32.mul (f32.load (i32.add (local.get $a) (local.get $off))) (local.get $alpha)) (local.get $beta)))`,
  }, '(local.set $av (f32x4.splat (local.get $alpha))) (local.set $bv (f32x4.splat (local.get $beta)))'),
  flatKernel('axpby', '(param $x i32) (param $y i32) (param $alpha f32) (param $beta f32)', {
    vec: `(v128.store (i32.add (local.get $y) (local.get $off)) (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $off))) (local.get $av))
        (f32x4.mul (v128.load (i32.add (local.get $y) (local.get $off))) (local.get $bv))))`,
    scalar: `(f32.store (i32.add (local.get $y) (local.get $off)) (f32.add (f32.mul (f32.load (i32.add (local.get $x) (local.get $off))) (local.get $alpha))
        (f32.mul (f32.load (i32.add (local.get $y) (local.get $off))) (local.get $beta))))`,
  }, '(local.set $av (f32x4.splat (local.get $alpha))) (local.set $bv (f32x4.splat (local.get $beta)))'),
].map((k) => k.replace('(local $off i32)', '(local $off i32) (local $av v128) (local $bv v128)')).join('\n');

/** Horizontal sum of an f32x4. */
const hsum = `
  (func $hsum (param $v v128) (result f32)
    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  (func $hmax (param $v v128) (result f32)
    (f32.max (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))`;

/**
 * Opens the grab loop of a row kernel: rows [$r, $end) of about 4096 elements per grab. The
 * kernel closes it with \`(br $gmore))\` after its row loop.
 */
function rowGrab(cols: string): string {
  return `(local.set $chunk (i32.add (i32.div_u (i32.const 4096) (i32.add (local.get ${cols}) (i32.const 1))) (i32.const 1)))
    (block $gall (loop $gmore
    (local.set $r (call $grab (local.get $chunk)))
    (br_if $gall (i32.ge_u (local.get $r) (local.get $rows)))
    (local.set $end (i32.add (local.get $r) (local.get $chunk)))
    (if (i32.gt_u (local.get $end) (local.get $rows)) (then (local.set $end (local.get $rows))))`;
}

/** Loop over columns [0, n) of a row: vector body on 4 at a time, then scalar tail. `$c` is the column. */
function rowLoop(n: string, vec: string, scalar: string, label: string, fromZero = true): string {
  return `
      ${fromZero ? '(local.set $c (i32.const 0))' : ''}
      (block $${label}d (loop $${label}n
        (br_if $${label}d (i32.gt_u (i32.add (local.get $c) (i32.const 4)) ${n}))
        ${vec}
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $${label}n)))
      (block $${label}d2 (loop $${label}n2
        (br_if $${label}d2 (i32.ge_u (local.get $c) ${n}))
        ${scalar}
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $${label}n2)))`;
}

const at = (base: string): string => `(i32.add ${base} (i32.shl (local.get $c) (i32.const 2)))`;

/** layer norm over rows; mean/rstd pointers may be 0 (not written). Statistics in float32, two-pass. */
const layerNormKernel = `
  (func (export "layernorm") (param $x i32) (param $g i32) (param $b i32) (param $o i32) (param $rows i32) (param $cols i32)
    (param $eps f32) (param $mean i32) (param $rstd i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32) (local $c i32) (local $px i32) (local $po i32) (local $acc v128) (local $s f32)
    (local $mu f32) (local $inv f32) (local $muv v128) (local $invv v128) (local $d v128) (local $ds f32)
    ${rowGrab('$cols')}
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $px (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $po (i32.add (local.get $o) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $s (f32.const 0))
      ${rowLoop('(local.get $cols)',
        `(local.set $acc (f32x4.add (local.get $acc) (v128.load ${at('(local.get $px)')})))`,
        `(local.set $s (f32.add (local.get $s) (f32.load ${at('(local.get $px)')})))`, 'a')}
      (local.set $mu (f32.div (f32.add (local.get $s) (call $hsum (local.get $acc))) (f32.convert_i32_u (local.get $cols))))
      (local.set $muv (f32x4.splat (local.get $mu)))
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $s (f32.const 0))
      ${rowLoop('(local.get $cols)',
        `(local.set $d (f32x4.sub (v128.load ${at('(local.get $px)')}) (local.get $muv)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))`,
        `(local.set $ds (f32.sub (f32.load ${at('(local.get $px)')}) (local.get $mu)))
        (local.set $s (f32.add (local.get $s) (f32.mul (local.get $ds) (local.get $ds))))`, 'b')}
      (local.set $inv (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (f32.add (local.get $s) (call $hsum (local.get $acc)))
        (f32.convert_i32_u (local.get $cols))) (local.get $eps)))))
      (local.set $invv (f32x4.splat (local.get $inv)))
      ${rowLoop('(local.get $cols)',
        `(v128.store ${at('(local.get $po)')} (f32x4.add (f32x4.mul (f32x4.mul (f32x4.sub (v128.load ${at('(local.get $px)')}) (local.get $muv)) (local.get $invv))
          (v128.load ${at('(local.get $g)')})) (v128.load ${at('(local.get $b)')})))`,
        `(f32.store ${at('(local.get $po)')} (f32.add (f32.mul (f32.mul (f32.sub (f32.load ${at('(local.get $px)')}) (local.get $mu)) (local.get $inv))
          (f32.load ${at('(local.get $g)')})) (f32.load ${at('(local.get $b)')})))`, 'c')}
      (if (local.get $mean) (then (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (local.get $mu))))
      (if (local.get $rstd) (then (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $inv))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $gmore))))`;

/** softmax of alpha·x per row; causal (seq > 0): row r keeps columns ≤ r mod seq, the rest are 0. */
const softmaxKernel = `
  (func (export "softmax") (param $x i32) (param $o i32) (param $rows i32) (param $cols i32) (param $alpha f32)
    (param $seq i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32) (local $c i32) (local $px i32) (local $po i32) (local $valid i32)
    (local $mx v128) (local $ms f32) (local $av v128) (local $acc v128) (local $s f32) (local $e v128) (local $e2 v128) (local $inv v128)
    (local.set $av (f32x4.splat (local.get $alpha)))
    ${rowGrab('$cols')}
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $px (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $po (i32.add (local.get $o) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $valid (local.get $cols))
      (if (local.get $seq) (then
        (local.set $valid (i32.add (i32.rem_u (local.get $r) (local.get $seq)) (i32.const 1)))
        (if (i32.gt_u (local.get $valid) (local.get $cols)) (then (local.set $valid (local.get $cols))))))
      (local.set $mx ${vf(-Infinity)}) (local.set $ms (f32.const -inf))
      ${rowLoop('(local.get $valid)',
        `(local.set $mx (f32x4.max (local.get $mx) (f32x4.mul (v128.load ${at('(local.get $px)')}) (local.get $av))))`,
        `(local.set $ms (f32.max (local.get $ms) (f32.mul (f32.load ${at('(local.get $px)')}) (local.get $alpha))))`, 'a')}
      (local.set $mx (f32x4.splat (f32.max (local.get $ms) (call $hmax (local.get $mx)))))
      (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $s (f32.const 0))
      ;; 8 at a time through the interleaved exp, then 4, then single columns
      (local.set $c (i32.const 0))
      (block $e8d (loop $e8n
        (br_if $e8d (i32.gt_u (i32.add (local.get $c) (i32.const 8)) (local.get $valid)))
        (call $expv2
          (f32x4.sub (f32x4.mul (v128.load ${at('(local.get $px)')}) (local.get $av)) (local.get $mx))
          (f32x4.sub (f32x4.mul (v128.load offset=16 ${at('(local.get $px)')}) (local.get $av)) (local.get $mx)))
        (local.set $e2)
        (local.set $e)
        (v128.store ${at('(local.get $po)')} (local.get $e))
        (v128.store offset=16 ${at('(local.get $po)')} (local.get $e2))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.add (local.get $e) (local.get $e2))))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (br $e8n)))
      ${rowLoop('(local.get $valid)',
        `(local.set $e (call $expv (f32x4.sub (f32x4.mul (v128.load ${at('(local.get $px)')}) (local.get $av)) (local.get $mx))))
        (v128.store ${at('(local.get $po)')} (local.get $e))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $e)))`,
        `(local.set $e (call $expv (f32x4.sub (f32x4.mul (v128.load32_splat ${at('(local.get $px)')}) (local.get $av)) (local.get $mx))))
        (f32.store ${at('(local.get $po)')} (f32x4.extract_lane 0 (local.get $e)))
        (local.set $s (f32.add (local.get $s) (f32x4.extract_lane 0 (local.get $e))))`, 'b', false)}
      (local.set $inv (f32x4.splat (f32.div (f32.const 1) (f32.add (local.get $s) (call $hsum (local.get $acc))))))
      ${rowLoop('(local.get $valid)',
        `(v128.store ${at('(local.get $po)')} (f32x4.mul (v128.load ${at('(local.get $po)')}) (local.get $inv)))`,
        `(f32.store ${at('(local.get $po)')} (f32.mul (f32.load ${at('(local.get $po)')}) (f32x4.extract_lane 0 (local.get $inv))))`, 'c')}
      (local.set $c (local.get $valid))
      (block $zd (loop $zn
        (br_if $zd (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store ${at('(local.get $po)')} (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $zn)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $gmore))))`;

/** Copies `count` floats from $src to $dst (byte addresses): f32x4 then scalar tail. */
const copyRun = `
  (func $copy (param $dst i32) (param $src i32) (param $count i32)
    (block $d (loop $n
      (br_if $d (i32.lt_u (local.get $count) (i32.const 4)))
      (v128.store (local.get $dst) (v128.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $count (i32.sub (local.get $count) (i32.const 4)))
      (br $n)))
    (block $d (loop $n
      (br_if $d (i32.eqz (local.get $count)))
      (f32.store (local.get $dst) (f32.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br $n))))`;

/** gather(table, ids, out, rows, dim): out row r = table row ids[r] (ids: int32 at byte address). */
const gatherKernel = `
  (func (export "gather") (param $table i32) (param $ids i32) (param $o i32) (param $rows i32) (param $dim i32)
    (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32)
    ${rowGrab('$dim')}
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (call $copy
        (i32.add (local.get $o) (i32.shl (i32.mul (local.get $r) (local.get $dim)) (i32.const 2)))
        (i32.add (local.get $table) (i32.shl (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dim)) (i32.const 2)))
        (local.get $dim))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $gmore))))`;

/**
 * permute: out is [d0, d1, d2, run] contiguous; out row (i0, i1, i2) is the run of `run`
 * contiguous floats at src + 4·(i0·s0 + i1·s1 + i2·s2). Any permutation that keeps the innermost
 * axis innermost reduces to this after merging axes (backend.ts).
 */
const permuteKernel = `
  (func (export "permute") (param $src i32) (param $o i32) (param $d1 i32) (param $d2 i32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $run i32) (param $rows i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $chunk i32) (local $i2 i32) (local $rest i32)
    ${rowGrab('$run')}
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $i2 (i32.rem_u (local.get $r) (local.get $d2)))
      (local.set $rest (i32.div_u (local.get $r) (local.get $d2)))
      (call $copy
        (i32.add (local.get $o) (i32.shl (i32.mul (local.get $r) (local.get $run)) (i32.const 2)))
        (i32.add (local.get $src) (i32.shl (i32.add (i32.add
          (i32.mul (i32.div_u (local.get $rest) (local.get $d1)) (local.get $s0))
          (i32.mul (i32.rem_u (local.get $rest) (local.get $d1)) (local.get $s1)))
          (i32.mul (local.get $i2) (local.get $s2))) (i32.const 2)))
        (local.get $run))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rnext)))
    (br $gmore))))`;

/**
 * Peak-FLOP/s probe: `iters` (in grabs of 65536) rounds, shared among the threads, of 12
 * independent chains: 6 f32x4 multiply and 6 add chains (48 flops per round), or with `fma` 12
 * relaxed_madd chains (96 flops). Independent chains keep every FP pipe busy (latency 3–4 cycles,
 * 2 per cycle each on current x86): the ceiling for the matmul's inner loop. Returns a sum so
 * nothing is dead code.
 */
const PEAK_CHAINS = 12;
export function peakFlopsPerIter(fma: boolean): number {
  return fma ? PEAK_CHAINS * 8 : PEAK_CHAINS * 4;
}

function peakKernel(fma: boolean): string {
  const chains = [...Array(PEAK_CHAINS).keys()];
  const update = (i: number): string => {
    if (fma) return `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $x) (local.get $y)))`;
    return i % 2 === 0
      ? `(local.set $a${i} (f32x4.mul (local.get $a${i}) (local.get $x)))`
      : `(local.set $a${i} (f32x4.add (local.get $a${i}) (local.get $y)))`;
  };
  return `
  (func (export "peak") (param $iters i32) (param $tid i32) (param $nt i32) (result f32)
    ${chains.map((i) => `(local $a${i} v128)`).join(' ')} (local $x v128) (local $y v128) (local $left i32)
    (local.set $x ${vf(0.999999)}) (local.set $y ${vf(1e-7)})
    ${chains.map((i) => `(local.set $a${i} ${vf(i + 1)})`).join(' ')}
    (block $all (loop $more
    (br_if $all (i32.ge_u (call $grab (i32.const 65536)) (local.get $iters)))
    (local.set $left (i32.const 65536))
    (block $d (loop $n
      (br_if $d (i32.eqz (local.get $left)))
      ${chains.map(update).join('\n      ')}
      (local.set $left (i32.sub (local.get $left) (i32.const 1)))
      (br $n)))
    (br $more)))
    (call $hsum ${chains.reduce((acc, i) => `(f32x4.add ${acc} (local.get $a${i}))`, '(local.get $x)')}))`;
}

/**
 * The full module text; imports `env.memory` (shared, up to `maxPages` 64 KiB pages). With `fma`
 * the matmul block uses relaxed-SIMD `f32x4.relaxed_madd` (x86 FMA: one rounding instead of two,
 * half the instructions); the result is then within the same k·2⁻²⁴ bound, deterministic per machine.
 */
export function kernelModuleText(maxPages: number, fma = false): string {
  return `(module
  (import "env" "memory" (memory 1 ${maxPages} shared))
  ${grab}
  ${hsum}
  ${expV}
  ${geluV}
  ${expInterleaved()}
  ${geluV2}
  ${normalsV}
  ${normalsInterleaved()}
  ${normalsKernel}
  ${normalsFewKernel}
  ${binaryKernels()}
  ${unaryKernels()}
  ${affineKernels}
  ${copyRun}
  ${gatherKernel}
  ${permuteKernel}
  ${layerNormKernel}
  ${softmaxKernel}
  ${microKernel(fma)}
  ${matmulKernel}
  ${float64Kernels}
  ${backwardKernels}
  ${libmFunctions}
  ${crossEntropyKernels}
  ${peakKernel(fma)}
)`;
}

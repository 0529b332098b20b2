/**
 * WebAssembly text of the optimizer kernels that reproduce the cpu oracle's float64 loops bit for
 * bit: every element is promoted to f64, goes through the same IEEE-754 operations in the same
 * order as the JavaScript expression in cpu.ts (+, −, ×, ÷ and √ are correctly rounded in both),
 * and is rounded to f32 once wherever the JavaScript stores into a Float32Array. Elements are
 * independent, so splitting them among threads cannot change a bit.
 *
 * GELU's backward calls Math.tanh in the loop; `$tanh64` (watLibm.ts) is that function bit for bit.
 */

/** Elements per grab (a multiple of 4). */
const CHUNK = 4096;

/**
 * A loop over [0, n) in grabs of CHUNK; `body` handles the element at byte offset $off, unrolled
 * four times per iteration with immediate offsets.
 */
function float64Kernel(name: string, params: string, locals: string, body: (offset: number) => string): string {
  return `
  (func (export "${name}") (param $n i32) ${params} (param $tid i32) (param $nt i32)
    (local $i i32) (local $end i32) (local $off i32) ${locals}
    (block $all (loop $more
    (local.set $i (call $grab (i32.const ${CHUNK})))
    (br_if $all (i32.ge_u (local.get $i) (local.get $n)))
    (local.set $end (i32.add (local.get $i) (i32.const ${CHUNK})))
    (if (i32.gt_u (local.get $end) (local.get $n)) (then (local.set $end (local.get $n))))
    (block $done (loop $next
      (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
      (local.set $off (i32.shl (local.get $i) (i32.const 2)))
      ${[0, 4, 8, 12].map(body).join('\n      ')}
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $off (i32.shl (local.get $i) (i32.const 2)))
      ${body(0)}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (br $more))))`;
}

const load = (base: string, offset: number): string => `(f64.promote_f32 (f32.load offset=${offset} (i32.add (local.get ${base}) (local.get $off))))`;
const store = (base: string, offset: number, value: string): string =>
  `(f32.store offset=${offset} (i32.add (local.get ${base}) (local.get $off)) (f32.demote_f64 ${value}))`;

/** The moment updates shared by adam_step and adam_dir; m and v are re-read after their f32 store, as in cpu.ts. */
const moments = (o: number): string => `
      (local.set $gv ${load('$g', o)})
      ${store('$m', o, `(f64.add (f64.mul (local.get $b1) ${load('$m', o)}) (f64.mul (local.get $c1) (local.get $gv)))`)}
      ${store('$v', o, `(f64.add (f64.mul (local.get $b2) ${load('$v', o)}) (f64.mul (f64.mul (local.get $c2) (local.get $gv)) (local.get $gv)))`)}
      (local.set $u (f64.div (f64.mul (local.get $s) ${load('$m', o)}) (f64.add (f64.sqrt ${load('$v', o)}) (local.get $eps))))`;

const ADAM_PARAMS = '(param $g i32) (param $m i32) (param $v i32) (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $eps f64) (param $s f64)';

/**
 * adam_step(n, p, g, m, v, β1, 1−β1, β2, 1−β2, eps, stepSize, lr·λ, decay): cpu.ts's adamStep,
 * p ← p − stepSize·m/(√v + eps), then p ← p − (lr·λ)·p when `decay` (λ ≠ 0).
 */
const adamStep = float64Kernel('adam_step', `(param $p i32) ${ADAM_PARAMS} (param $lrwd f64) (param $decay i32)`, '(local $gv f64) (local $u f64) (local $q f64)', (o) => `
      ${moments(o)}
      (local.set $q (f64.sub ${load('$p', o)} (local.get $u)))
      (if (local.get $decay) (then (local.set $q (f64.sub (local.get $q) (f64.mul (local.get $lrwd) (local.get $q))))))
      ${store('$p', o, '(local.get $q)')}`);

/** adam_dir(n, out, g, m, v, β1, 1−β1, β2, 1−β2, eps, correction): cpu.ts's adamDirection, out = correction·m/(√v + eps). */
const adamDirection = float64Kernel('adam_dir', `(param $o i32) ${ADAM_PARAMS}`, '(local $gv f64) (local $u f64)', (o) => `
      ${moments(o)}
      ${store('$o', o, '(local.get $u)')}`);

const GELU_C = Math.sqrt(2 / Math.PI);
const f64 = (x: number): string => `(f64.const ${String(x)})`;

/**
 * gelu_bwd(n, x, dy, dx): cpu.ts's geluBackward, dx = dy·geluDerivative(x) with
 *   u = C·(x + 0.044715·x·x·x), t = tanh u, geluDerivative = ½(1 + t) + ½x(1 − t²)·C·(1 + 3·0.044715·x·x),
 * every product in the JavaScript expression's left-to-right order (3·0.044715 folded, as V8 folds it).
 */
const geluBackward = float64Kernel('gelu_bwd', '(param $x i32) (param $dy i32) (param $dx i32)', '(local $v f64) (local $t f64)', (o) => `
      (local.set $v ${load('$x', o)})
      (local.set $t (call $tanh64 (f64.mul ${f64(GELU_C)} (f64.add (local.get $v)
        (f64.mul (f64.mul (f64.mul ${f64(0.044715)} (local.get $v)) (local.get $v)) (local.get $v))))))
      ${store('$dx', o, `(f64.mul ${load('$dy', o)} (f64.add (f64.mul (f64.const 0.5) (f64.add (f64.const 1) (local.get $t)))
        (f64.mul (f64.mul (f64.mul (f64.mul (f64.const 0.5) (local.get $v)) (f64.sub (f64.const 1) (f64.mul (local.get $t) (local.get $t)))) ${f64(GELU_C)})
          (f64.add (f64.const 1) (f64.mul (f64.mul ${f64(3 * 0.044715)} (local.get $v)) (local.get $v))))))`)}`);

export const float64Kernels = [adamStep, adamDirection, geluBackward].join('\n');

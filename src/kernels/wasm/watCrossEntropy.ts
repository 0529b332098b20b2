/**
 * WebAssembly text of the fused cross-entropy (cpu.ts `crossEntropy`), bit for bit: its loop calls
 * Math.exp once per logit for the loss and once more for the gradient, and V8's Math.exp is
 * fdlibm's `exp` (FreeBSD msun e_exp.c, in V8's src/base/ieee754.cc): plain IEEE-754 double
 * operations, which WebAssembly performs identically. `$exp64` is that function line for line
 * (checked against Math.exp bit for bit, test/kernels/wasmBitExact.test.ts), so the kernels below
 * reproduce the loop's float64 arithmetic in its order, with one f32 rounding per store. Over a
 * vocabulary-sized row this exponential was most of a language-model training step.
 *
 * The row's log-sum-exp needs Math.log once per row; the backend computes it between the two
 * kernels on the host, where it is the same call as the cpu loop's.
 */

/** fdlibm exp's constants (e_exp.c). */
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];
const O_THRESHOLD = 7.09782712893383973096e+02;
const U_THRESHOLD = -7.45133219101941108420e+02;
const TWO_M1000 = 9.33263618503218878990e-302;
const TWO_1023 = 8.988465674311579539e307;
const E = 2.718281828459045;

const f64 = (x: number): string => `(f64.const ${String(x)})`;
const get = (name: string): string => `(local.get $${name})`;

/** P1 + t(P2 + t(P3 + t(P4 + t·P5))), innermost first as C evaluates it. */
const polynomial = P.slice(0, -1).reduceRight((inner, coefficient) => `(f64.add ${f64(coefficient)} (f64.mul ${get('t')} ${inner}))`, f64(P[P.length - 1]!));

const exp64 = `
  (func $exp64 (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64) (local $twopk f64)
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 ${get('x')}) (i64.const 32))))
    (local.set $xsb (i32.shr_u ${get('hx')} (i32.const 31)))
    (local.set $hx (i32.and ${get('hx')} (i32.const 0x7fffffff)))
    ;; |x| ≥ 709.78…: NaN, ±∞, overflow, underflow
    (if (i32.ge_u ${get('hx')} (i32.const 0x40862e42)) (then
      (if (i32.ge_u ${get('hx')} (i32.const 0x7ff00000)) (then
        (if (f64.ne ${get('x')} ${get('x')}) (then (return (f64.add ${get('x')} ${get('x')}))))
        (return (select ${get('x')} (f64.const 0) (i32.eqz ${get('xsb')})))))
      (if (f64.gt ${get('x')} ${f64(O_THRESHOLD)}) (then (return (f64.const inf))))
      (if (f64.lt ${get('x')} ${f64(U_THRESHOLD)}) (then (return (f64.const 0))))))
    ;; argument reduction: x = k·ln2 + (hi − lo)
    (if (i32.gt_u ${get('hx')} (i32.const 0x3fd62e42))
      (then
        (if (i32.lt_u ${get('hx')} (i32.const 0x3ff0a2b2))
          (then
            (if (f64.eq ${get('x')} (f64.const 1)) (then (return ${f64(E)})))
            (local.set $hi (f64.sub ${get('x')} (select ${f64(-LN2_HI)} ${f64(LN2_HI)} ${get('xsb')})))
            (local.set $lo (select ${f64(-LN2_LO)} ${f64(LN2_LO)} ${get('xsb')}))
            (local.set $k (i32.sub (i32.const 1) (i32.shl ${get('xsb')} (i32.const 1)))))
          (else
            (local.set $k (i32.trunc_f64_s (f64.add (f64.mul ${f64(INV_LN2)} ${get('x')}) (select (f64.const -0.5) (f64.const 0.5) ${get('xsb')}))))
            (local.set $t (f64.convert_i32_s ${get('k')}))
            (local.set $hi (f64.sub ${get('x')} (f64.mul ${get('t')} ${f64(LN2_HI)})))
            (local.set $lo (f64.mul ${get('t')} ${f64(LN2_LO)}))))
        (local.set $x (f64.sub ${get('hi')} ${get('lo')})))
      (else
        ;; |x| < 2⁻²⁸: 1 + x
        (if (i32.lt_u ${get('hx')} (i32.const 0x3e300000)) (then (return (f64.add (f64.const 1) ${get('x')}))))))
    (local.set $t (f64.mul ${get('x')} ${get('x')}))
    (local.set $twopk (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add (i32.const 0x3ff00000) (i32.shl
      (select ${get('k')} (i32.add ${get('k')} (i32.const 1000)) (i32.ge_s ${get('k')} (i32.const -1021))) (i32.const 20)))) (i64.const 32))))
    (local.set $c (f64.sub ${get('x')} (f64.mul ${get('t')} ${polynomial})))
    (if (i32.eqz ${get('k')}) (then
      (return (f64.sub (f64.const 1) (f64.sub (f64.div (f64.mul ${get('x')} ${get('c')}) (f64.sub ${get('c')} (f64.const 2))) ${get('x')})))))
    (local.set $y (f64.sub (f64.const 1) (f64.sub (f64.sub ${get('lo')} (f64.div (f64.mul ${get('x')} ${get('c')}) (f64.sub (f64.const 2) ${get('c')}))) ${get('hi')})))
    (if (i32.ge_s ${get('k')} (i32.const -1021)) (then
      (if (i32.eq ${get('k')} (i32.const 1024)) (then (return (f64.mul (f64.mul ${get('y')} (f64.const 2)) ${f64(TWO_1023)}))))
      (return (f64.mul ${get('y')} ${get('twopk')}))))
    (f64.mul (f64.mul ${get('y')} ${get('twopk')}) ${f64(TWO_M1000)}))
  (func (export "exp64") (param $x f64) (result f64) (call $exp64 (local.get $x)))`;

/** Rows per grab: a row is a vocabulary of exponentials. */
const ROWS_PER_GRAB = 4;

/** A grab loop over rows [0, rows) whose target is not negative; the body sees $r, the logits row $pl (bytes) and $target. */
function targetRows(name: string, params: string, locals: string, body: string, ignored = ''): string {
  return `
  (func (export "${name}") (param $logits i32) (param $targets i32) (param $stats i32) ${params} (param $rows i32) (param $cols i32) (param $tid i32) (param $nt i32)
    (local $r i32) (local $end i32) (local $c i32) (local $pl i32) (local $target i32) ${locals}
    (block $all (loop $more
    (local.set $r (call $grab (i32.const ${ROWS_PER_GRAB})))
    (br_if $all (i32.ge_u ${get('r')} ${get('rows')}))
    (local.set $end (i32.add ${get('r')} (i32.const ${ROWS_PER_GRAB})))
    (if (i32.gt_u ${get('end')} ${get('rows')}) (then (local.set $end ${get('rows')})))
    (block $rdone (loop $rnext
      (br_if $rdone (i32.ge_u ${get('r')} ${get('end')}))
      (local.set $pl (i32.add ${get('logits')} (i32.shl (i32.mul ${get('r')} ${get('cols')}) (i32.const 2))))
      (local.set $target (i32.load (i32.add ${get('targets')} (i32.shl ${get('r')} (i32.const 2)))))
      (if (i32.lt_s ${get('target')} (i32.const 0)) (then ${ignored}) (else ${body}))
      (local.set $r (i32.add ${get('r')} (i32.const 1)))
      (br $rnext)))
    (br $more))))`;
}

const logit = '(f64.promote_f32 (f32.load (i32.add (local.get $pl) (i32.shl (local.get $c) (i32.const 2)))))';
const statAt = (slot: number): string => `(i32.add ${get('stats')} (i32.shl (i32.add (i32.shl ${get('r')} (i32.const 1)) (i32.const ${slot})) (i32.const 3)))`;
const forColumns = (label: string, body: string): string => `
      (local.set $c (i32.const 0))
      (block $${label}d (loop $${label}n
        (br_if $${label}d (i32.ge_u ${get('c')} ${get('cols')}))
        ${body}
        (local.set $c (i32.add ${get('c')} (i32.const 1)))
        (br $${label}n)))`;

/** ce_stats(logits, targets, stats, rows, cols): stats[2r] = max_c L, stats[2r+1] = Σ_c exp(L − max), c = 0, 1, … */
const crossEntropyStats = targetRows('ce_stats', '', '(local $max f64) (local $sum f64)', `
      (local.set $max (f64.const -inf))
      ${forColumns('m', `(local.set $max (f64.max ${get('max')} ${logit}))`)}
      (local.set $sum (f64.const 0))
      ${forColumns('s', `(local.set $sum (f64.add ${get('sum')} (call $exp64 (f64.sub ${logit} ${get('max')}))))`)}
      (f64.store ${statAt(0)} ${get('max')})
      (f64.store ${statAt(1)} ${get('sum')})`);

/**
 * ce_out(logits, targets, stats, losses, dLogits, gradScale, rows, cols), with stats[2r] now the
 * row's log-sum-exp: loss = logSum − L[target]; dLogits (when not 0) = gradScale·(exp(L − logSum)
 * − [c = target]); a row whose target is negative gets loss 0 and a zero gradient.
 */
const crossEntropyOut = targetRows('ce_out', '(param $losses i32) (param $dlogits i32) (param $scale f64)', '(local $logSum f64) (local $pd i32)', `
      (local.set $logSum (f64.load ${statAt(0)}))
      (f32.store (i32.add ${get('losses')} (i32.shl ${get('r')} (i32.const 2)))
        (f32.demote_f64 (f64.sub ${get('logSum')} (f64.promote_f32 (f32.load (i32.add ${get('pl')} (i32.shl ${get('target')} (i32.const 2))))))))
      (if ${get('dlogits')} (then
        (local.set $pd (i32.add ${get('dlogits')} (i32.shl (i32.mul ${get('r')} ${get('cols')}) (i32.const 2))))
        ${forColumns('g', `(f32.store (i32.add ${get('pd')} (i32.shl ${get('c')} (i32.const 2))) (f32.demote_f64 (f64.mul ${get('scale')}
          (f64.sub (call $exp64 (f64.sub ${logit} ${get('logSum')})) (select (f64.const 1) (f64.const 0) (i32.eq ${get('c')} ${get('target')}))))))`)}))`,
`(f32.store (i32.add ${get('losses')} (i32.shl ${get('r')} (i32.const 2))) (f32.const 0))
      (if ${get('dlogits')} (then
        (local.set $pd (i32.add ${get('dlogits')} (i32.shl (i32.mul ${get('r')} ${get('cols')}) (i32.const 2))))
        ${forColumns('z', `(f32.store (i32.add ${get('pd')} (i32.shl ${get('c')} (i32.const 2))) (f32.const 0))`)}))`);

export const crossEntropyKernels = [exp64, crossEntropyStats, crossEntropyOut].join('\n');

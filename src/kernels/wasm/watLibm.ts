/**
 * fdlibm's exp, expm1 and tanh in WebAssembly text, line for line as V8 implements Math.exp and
 * Math.tanh (src/base/ieee754.cc: FreeBSD msun e_exp.c, s_expm1.c, s_tanh.c): plain IEEE-754 double
 * operations and bit manipulation, which WebAssembly performs identically, so each returns what the
 * JavaScript call returns, bit for bit (test/kernels/wasmBitExact.test.ts checks them against
 * Math.exp and Math.tanh). The cpu oracle's float64 loops call those functions; kernels that
 * reproduce the loops call these.
 */

const f64 = (x: number): string => `(f64.const ${String(x)})`;
const get = (name: string): string => `(local.get $${name})`;
const highWord = (x: string): string => `(i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 ${x}) (i64.const 32)))`;
/** The double whose high word is `hi` and low word 0 (fdlibm's INSERT_WORDS(d, hi, 0)). */
const fromHighWord = (hi: string): string => `(f64.reinterpret_i64 (i64.shl (i64.extend_i32_u ${hi}) (i64.const 32)))`;

/** exp's constants (e_exp.c). */
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const P = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06, 4.13813679705723846039e-08];
const O_THRESHOLD = 7.09782712893383973096e+02;
const U_THRESHOLD = -7.45133219101941108420e+02;
const TWO_M1000 = 9.33263618503218878990e-302;
const TWO_1023 = 8.988465674311579539e307;
const E = 2.718281828459045;

/** c₀ + v(c₁ + v(c₂ + …)) as C evaluates it, innermost first (and the same on f64x2 lanes). */
const horner = (coefficients: readonly number[], v: string): string =>
  coefficients.slice(0, -1).reduceRight((inner, c) => `(f64.add ${f64(c)} (f64.mul ${get(v)} ${inner}))`, f64(coefficients[coefficients.length - 1]!));
const hornerV = (coefficients: readonly number[], v: string): string =>
  coefficients.slice(0, -1).reduceRight((inner, c) => `(f64x2.add (f64x2.splat ${f64(c)}) (f64x2.mul ${get(v)} ${inner}))`, `(f64x2.splat ${f64(coefficients[coefficients.length - 1]!)})`);

const exp64 = `
  (func $exp64 (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64) (local $twopk f64)
    (local.set $hx ${highWord(get('x'))})
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
    (local.set $twopk ${fromHighWord(`(i32.add (i32.const 0x3ff00000) (i32.shl
      (select ${get('k')} (i32.add ${get('k')} (i32.const 1000)) (i32.ge_s ${get('k')} (i32.const -1021))) (i32.const 20)))`)})
    (local.set $c (f64.sub ${get('x')} (f64.mul ${get('t')} ${horner(P, 't')})))
    (if (i32.eqz ${get('k')}) (then
      (return (f64.sub (f64.const 1) (f64.sub (f64.div (f64.mul ${get('x')} ${get('c')}) (f64.sub ${get('c')} (f64.const 2))) ${get('x')})))))
    (local.set $y (f64.sub (f64.const 1) (f64.sub (f64.sub ${get('lo')} (f64.div (f64.mul ${get('x')} ${get('c')}) (f64.sub (f64.const 2) ${get('c')}))) ${get('hi')})))
    (if (i32.ge_s ${get('k')} (i32.const -1021)) (then
      (if (i32.eq ${get('k')} (i32.const 1024)) (then (return (f64.mul (f64.mul ${get('y')} (f64.const 2)) ${f64(TWO_1023)}))))
      (return (f64.mul ${get('y')} ${get('twopk')}))))
    (f64.mul (f64.mul ${get('y')} ${get('twopk')}) ${f64(TWO_M1000)}))
`;

const vf64 = (x: number): string => `(f64x2.splat ${f64(x)})`;

/**
 * exp of both f64 lanes, each bit for bit `$exp64`, for arguments in (−708, 0] — where softmax and
 * cross-entropy read it (x − max) — without branches: there fdlibm takes one of three paths by |x|
 * (below 2⁻²⁸: 1 + x; up to ½ln2: the k = 0 rational form; beyond: reduction by k·ln2 with k from
 * truncation, k ≥ −1021, whose 0.5–1.5·ln2 special case gives the same k, hi and lo for x < 0),
 * and each lane takes its path by select. Any other argument (positive, below −708, NaN) sends
 * both lanes through `$exp64`.
 */
const exp64x2 = `
  (func $exp64x2 (param $x v128) (result v128)
    (local $abs v128) (local $reduce v128) (local $t v128) (local $k v128) (local $hi v128) (local $lo v128)
    (local $xr v128) (local $z v128) (local $c v128) (local $q v128) (local $twopk v128)
    (if (i32.eqz (v128.any_true (v128.not (v128.and (f64x2.gt ${get('x')} ${vf64(-708)}) (f64x2.le ${get('x')} (f64x2.splat (f64.const 0)))))))
      (then
        (local.set $abs (v128.and ${get('x')} (i64x2.splat (i64.const 0x7fffffffffffffff))))
        ;; |x| > ½ln2 (high word > 0x3fd62e42): reduce; otherwise t = 0 leaves x as it is
        (local.set $reduce (i64x2.gt_s ${get('abs')} (i64x2.splat (i64.const 0x3fd62e42ffffffff))))
        (local.set $t (v128.and ${get('reduce')} (f64x2.trunc (f64x2.add (f64x2.mul ${vf64(INV_LN2)} ${get('x')}) ${vf64(-0.5)}))))
        (local.set $hi (f64x2.sub ${get('x')} (f64x2.mul ${get('t')} ${vf64(LN2_HI)})))
        (local.set $lo (f64x2.mul ${get('t')} ${vf64(LN2_LO)}))
        (local.set $xr (f64x2.sub ${get('hi')} ${get('lo')}))
        (local.set $z (f64x2.mul ${get('xr')} ${get('xr')}))
        (local.set $c (f64x2.sub ${get('xr')} (f64x2.mul ${get('z')} ${hornerV(P, 'z')})))
        ;; k = 0: 1 − ((x·c)/(c − 2) − x); k ≠ 0: 1 − ((lo − (x·c)/(2 − c)) − hi), times 2ᵏ
        (local.set $q (f64x2.div (f64x2.mul ${get('xr')} ${get('c')})
          (v128.bitselect (f64x2.sub ${vf64(2)} ${get('c')}) (f64x2.sub ${get('c')} ${vf64(2)}) ${get('reduce')})))
        (local.set $k (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero ${get('t')})))
        (local.set $twopk (i64x2.shl (i64x2.add ${get('k')} (i64x2.splat (i64.const 0x3ff))) (i32.const 52)))
        (return (v128.bitselect
          (f64x2.add ${vf64(1)} ${get('x')})
          (v128.bitselect
            (f64x2.mul (f64x2.sub ${vf64(1)} (f64x2.sub (f64x2.sub ${get('lo')} ${get('q')}) ${get('hi')})) ${get('twopk')})
            (f64x2.sub ${vf64(1)} (f64x2.sub ${get('q')} ${get('xr')}))
            ${get('reduce')})
          (i64x2.lt_s ${get('abs')} (i64x2.splat (i64.const 0x3e30000000000000)))))))
    (f64x2.replace_lane 1 (f64x2.splat (call $exp64 (f64x2.extract_lane 0 ${get('x')}))) (call $exp64 (f64x2.extract_lane 1 ${get('x')}))))`;

/** expm1's constants (s_expm1.c): Q1…Q5 scaled for R(2z), z = x²/2. */
const Q = [1, -3.33333333333331316428e-02, 1.58730158725481460165e-03, -7.93650757867487942473e-05, 4.00821782732936239552e-06, -2.01099218183624371326e-07];

const expm1 = `
  (func $expm1 (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $c f64) (local $t f64) (local $e f64)
    (local $hfx f64) (local $hxs f64) (local $r1 f64) (local $y f64) (local $twopk f64)
    (local.set $hx ${highWord(get('x'))})
    (local.set $xsb (i32.and ${get('hx')} (i32.const 0x80000000)))
    (local.set $hx (i32.and ${get('hx')} (i32.const 0x7fffffff)))
    ;; |x| ≥ 56·ln2: NaN, ±∞, overflow, or −1
    (if (i32.ge_u ${get('hx')} (i32.const 0x4043687a)) (then
      (if (i32.ge_u ${get('hx')} (i32.const 0x40862e42)) (then
        (if (i32.ge_u ${get('hx')} (i32.const 0x7ff00000)) (then
          (if (f64.ne ${get('x')} ${get('x')}) (then (return (f64.add ${get('x')} ${get('x')}))))
          (return (select ${get('x')} (f64.const -1) (i32.eqz ${get('xsb')})))))
        (if (f64.gt ${get('x')} ${f64(O_THRESHOLD)}) (then (return (f64.const inf))))))
      (if ${get('xsb')} (then (return (f64.const -1))))))
    ;; argument reduction: x = k·ln2 + (hi − lo), c the rounding error of hi − lo
    (if (i32.gt_u ${get('hx')} (i32.const 0x3fd62e42))
      (then
        (if (i32.lt_u ${get('hx')} (i32.const 0x3ff0a2b2))
          (then
            (if (i32.eqz ${get('xsb')})
              (then (local.set $hi (f64.sub ${get('x')} ${f64(LN2_HI)})) (local.set $lo ${f64(LN2_LO)}) (local.set $k (i32.const 1)))
              (else (local.set $hi (f64.add ${get('x')} ${f64(LN2_HI)})) (local.set $lo ${f64(-LN2_LO)}) (local.set $k (i32.const -1)))))
          (else
            (local.set $k (i32.trunc_f64_s (f64.add (f64.mul ${f64(INV_LN2)} ${get('x')}) (select (f64.const -0.5) (f64.const 0.5) ${get('xsb')}))))
            (local.set $t (f64.convert_i32_s ${get('k')}))
            (local.set $hi (f64.sub ${get('x')} (f64.mul ${get('t')} ${f64(LN2_HI)})))
            (local.set $lo (f64.mul ${get('t')} ${f64(LN2_LO)}))))
        (local.set $x (f64.sub ${get('hi')} ${get('lo')}))
        (local.set $c (f64.sub (f64.sub ${get('hi')} ${get('x')}) ${get('lo')})))
      (else
        ;; |x| < 2⁻⁵⁴: x
        (if (i32.lt_u ${get('hx')} (i32.const 0x3c900000)) (then (return ${get('x')})))))
    (local.set $hfx (f64.mul (f64.const 0.5) ${get('x')}))
    (local.set $hxs (f64.mul ${get('x')} ${get('hfx')}))
    (local.set $r1 ${horner(Q, 'hxs')})
    (local.set $t (f64.sub (f64.const 3) (f64.mul ${get('r1')} ${get('hfx')})))
    (local.set $e (f64.mul ${get('hxs')} (f64.div (f64.sub ${get('r1')} ${get('t')}) (f64.sub (f64.const 6) (f64.mul ${get('x')} ${get('t')})))))
    (if (i32.eqz ${get('k')}) (then (return (f64.sub ${get('x')} (f64.sub (f64.mul ${get('x')} ${get('e')}) ${get('hxs')})))))
    (local.set $twopk ${fromHighWord("(i32.add (i32.const 0x3ff00000) (i32.shl (local.get $k) (i32.const 20)))")})
    (local.set $e (f64.sub (f64.sub (f64.mul ${get('x')} (f64.sub ${get('e')} ${get('c')})) ${get('c')}) ${get('hxs')}))
    (if (i32.eq ${get('k')} (i32.const -1)) (then
      (return (f64.sub (f64.mul (f64.const 0.5) (f64.sub ${get('x')} ${get('e')})) (f64.const 0.5)))))
    (if (i32.eq ${get('k')} (i32.const 1)) (then
      (if (f64.lt ${get('x')} (f64.const -0.25)) (then
        (return (f64.mul (f64.const -2) (f64.sub ${get('e')} (f64.add ${get('x')} (f64.const 0.5)))))))
      (return (f64.add (f64.const 1) (f64.mul (f64.const 2) (f64.sub ${get('x')} ${get('e')}))))))
    (if (i32.or (i32.le_s ${get('k')} (i32.const -2)) (i32.gt_s ${get('k')} (i32.const 56))) (then
      (local.set $y (f64.sub (f64.const 1) (f64.sub ${get('e')} ${get('x')})))
      (local.set $y (select (f64.mul (f64.mul ${get('y')} (f64.const 2)) ${f64(8.98846567431158e+307)}) (f64.mul ${get('y')} ${get('twopk')})
        (i32.eq ${get('k')} (i32.const 1024))))
      (return (f64.sub ${get('y')} (f64.const 1)))))
    (if (i32.lt_s ${get('k')} (i32.const 20))
      (then
        ;; t = 1 − 2⁻ᵏ
        (local.set $t ${fromHighWord("(i32.sub (i32.const 0x3ff00000) (i32.shr_s (i32.const 0x200000) (local.get $k)))")})
        (local.set $y (f64.mul (f64.sub ${get('t')} (f64.sub ${get('e')} ${get('x')})) ${get('twopk')})))
      (else
        ;; t = 2⁻ᵏ
        (local.set $t ${fromHighWord("(i32.shl (i32.sub (i32.const 0x3ff) (local.get $k)) (i32.const 20))")})
        (local.set $y (f64.mul (f64.add (f64.sub ${get('x')} (f64.add ${get('e')} ${get('t')})) (f64.const 1)) ${get('twopk')}))))
    ${get('y')})`;

const tanh64 = `
  (func $tanh64 (param $x f64) (result f64)
    (local $jx i32) (local $ix i32) (local $t f64) (local $z f64)
    (local.set $jx ${highWord(get('x'))})
    (local.set $ix (i32.and ${get('jx')} (i32.const 0x7fffffff)))
    ;; ±∞ → ±1, NaN → NaN
    (if (i32.ge_u ${get('ix')} (i32.const 0x7ff00000)) (then
      (return (select (f64.add (f64.div (f64.const 1) ${get('x')}) (f64.const 1)) (f64.sub (f64.div (f64.const 1) ${get('x')}) (f64.const 1))
        (i32.ge_s ${get('jx')} (i32.const 0))))))
    (if (i32.lt_u ${get('ix')} (i32.const 0x40360000))
      (then
        ;; |x| < 2⁻²⁸: x
        (if (i32.lt_u ${get('ix')} (i32.const 0x3e300000)) (then (return ${get('x')})))
        (if (i32.ge_u ${get('ix')} (i32.const 0x3ff00000))
          (then
            (local.set $t (call $expm1 (f64.mul (f64.const 2) (f64.abs ${get('x')}))))
            (local.set $z (f64.sub (f64.const 1) (f64.div (f64.const 2) (f64.add ${get('t')} (f64.const 2))))))
          (else
            (local.set $t (call $expm1 (f64.mul (f64.const -2) (f64.abs ${get('x')}))))
            (local.set $z (f64.div (f64.neg ${get('t')}) (f64.add ${get('t')} (f64.const 2)))))))
      ;; |x| ≥ 22: ±1
      (else (local.set $z (f64.const 1))))
    (select ${get('z')} (f64.neg ${get('z')}) (i32.ge_s ${get('jx')} (i32.const 0))))`;

/** The functions, and exports of exp64, both lanes of exp64x2, and tanh64 for the tests that compare them with Math. */
export const libmFunctions = [exp64, exp64x2, expm1, tanh64,
  '(func (export "exp64") (param $x f64) (result f64) (call $exp64 (local.get $x)))',
  '(func (export "exp64x2_lane0") (param $x f64) (param $y f64) (result f64) (f64x2.extract_lane 0 (call $exp64x2 (f64x2.replace_lane 1 (f64x2.splat (local.get $x)) (local.get $y)))))',
  '(func (export "exp64x2_lane1") (param $x f64) (param $y f64) (result f64) (f64x2.extract_lane 1 (call $exp64x2 (f64x2.replace_lane 1 (f64x2.splat (local.get $x)) (local.get $y)))))',
  '(func (export "tanh64") (param $x f64) (result f64) (call $tanh64 (local.get $x)))'].join('\n');

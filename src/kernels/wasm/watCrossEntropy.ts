/**
 * WebAssembly text of the fused cross-entropy (cpu.ts `crossEntropy`), bit for bit: its loop calls
 * Math.exp once per logit for the loss and once more for the gradient, and `$exp64` (watLibm.ts)
 * is Math.exp bit for bit, so the kernels below reproduce the loop's float64 arithmetic in its
 * order, with one f32 rounding per store. Over a vocabulary-sized row this exponential was most of
 * a language-model training step.
 *
 * The row's log-sum-exp needs Math.log once per row; the backend computes it between the two
 * kernels on the host, where it is the same call as the cpu loop's.
 */

import { columns, rowKernel } from './watBackward.ts';

const get = (name: string): string => `(local.get $${name})`;

/** A row kernel (watBackward.ts) over rows whose target is not negative; the body sees $r, the logits row $pl (bytes) and $target. */
function targetRows(name: string, params: string, locals: string, body: string, ignored = ''): string {
  return rowKernel(name, `(param $logits i32) (param $targets i32) (param $stats i32) ${params}`, `(local $pl i32) (local $target i32) ${locals}`, `
      (local.set $pl (i32.add ${get('logits')} ${get('row')}))
      (local.set $target (i32.load (i32.add ${get('targets')} (i32.shl ${get('r')} (i32.const 2)))))
      (if (i32.lt_s ${get('target')} (i32.const 0)) (then ${ignored}) (else ${body}))`);
}

const logit = '(f64.promote_f32 (f32.load (i32.add (local.get $pl) (i32.shl (local.get $c) (i32.const 2)))))';
const statAt = (slot: number): string => `(i32.add ${get('stats')} (i32.shl (i32.add (i32.shl ${get('r')} (i32.const 1)) (i32.const ${slot})) (i32.const 3)))`;
/** The logits at columns $c, $c + 1 as f64x2. */
const logitPair = '(f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $pl) (i32.shl (local.get $c) (i32.const 2)))))';

/** for (c = 0; c + 1 < cols; c += 2) pair; then the last column alone, if cols is odd. */
const byPairs = (label: string, pair: string, single: string): string => `
      (local.set $c (i32.const 0))
      (block $${label}d (loop $${label}n
        (br_if $${label}d (i32.ge_u (i32.add ${get('c')} (i32.const 1)) ${get('cols')}))
        ${pair}
        (local.set $c (i32.add ${get('c')} (i32.const 2)))
        (br $${label}n)))
      (if (i32.lt_u ${get('c')} ${get('cols')}) (then ${single}))`;


/** ce_stats(logits, targets, stats, rows, cols): stats[2r] = max_c L, stats[2r+1] = Σ_c exp(L − max), c = 0, 1, … */
const crossEntropyStats = targetRows('ce_stats', '', '(local $max f64) (local $sum f64) (local $e v128)', `
      (local.set $max (f64.const -inf))
      ${columns('m', `(local.set $max (f64.max ${get('max')} ${logit}))`)}
      (local.set $sum (f64.const 0))
      ${byPairs('s', `(local.set $e (call $exp64x2 (f64x2.sub ${logitPair} (f64x2.splat ${get('max')}))))
        (local.set $sum (f64.add (f64.add ${get('sum')} (f64x2.extract_lane 0 ${get('e')})) (f64x2.extract_lane 1 ${get('e')})))`,
  `(local.set $sum (f64.add ${get('sum')} (call $exp64 (f64.sub ${logit} ${get('max')}))))`)}
      (f64.store ${statAt(0)} ${get('max')})
      (f64.store ${statAt(1)} ${get('sum')})`);

/** dLogits[column] = gradScale·(e − [column = target]), rounded to f32 once. */
const gradientAt = (column: string, e: string): string =>
  `(f32.store (i32.add ${get('pd')} (i32.shl ${column} (i32.const 2))) (f32.demote_f64 (f64.mul ${get('scale')}
          (f64.sub ${e} (select (f64.const 1) (f64.const 0) (i32.eq ${column} ${get('target')}))))))`;

/**
 * ce_out(logits, targets, stats, losses, dLogits, gradScale, rows, cols), with stats[2r] now the
 * row's log-sum-exp: loss = logSum − L[target]; dLogits (when not 0) = gradScale·(exp(L − logSum)
 * − [c = target]); a row whose target is negative gets loss 0 and a zero gradient.
 */
const crossEntropyOut = targetRows('ce_out', '(param $losses i32) (param $dlogits i32) (param $scale f64)', '(local $logSum f64) (local $pd i32) (local $e v128)', `
      (local.set $logSum (f64.load ${statAt(0)}))
      (f32.store (i32.add ${get('losses')} (i32.shl ${get('r')} (i32.const 2)))
        (f32.demote_f64 (f64.sub ${get('logSum')} (f64.promote_f32 (f32.load (i32.add ${get('pl')} (i32.shl ${get('target')} (i32.const 2))))))))
      (if ${get('dlogits')} (then
        (local.set $pd (i32.add ${get('dlogits')} ${get('row')}))
        ${byPairs('g', `(local.set $e (call $exp64x2 (f64x2.sub ${logitPair} (f64x2.splat ${get('logSum')}))))
          ${gradientAt(get('c'), `(f64x2.extract_lane 0 ${get('e')})`)}
          ${gradientAt(`(i32.add ${get('c')} (i32.const 1))`, `(f64x2.extract_lane 1 ${get('e')})`)}`,
  gradientAt(get('c'), `(call $exp64 (f64.sub ${logit} ${get('logSum')}))`))}))`,
`(f32.store (i32.add ${get('losses')} (i32.shl ${get('r')} (i32.const 2))) (f32.const 0))
      (if ${get('dlogits')} (then
        (local.set $pd (i32.add ${get('dlogits')} ${get('row')}))
        ${columns('z', `(f32.store (i32.add ${get('pd')} (i32.shl ${get('c')} (i32.const 2))) (f32.const 0))`)}))`);

export const crossEntropyKernels = [crossEntropyStats, crossEntropyOut].join('\n');

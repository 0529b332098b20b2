/**
 * Registers every built-in workload and method adapter (importing this module is enough): the
 * synthetic and e-mail tasks, zero-shot, one method per ZO estimator preset and one per
 * backprop optimizer.
 */
import '../kernels/index.ts';
import './synthetic.ts';
import './methods/zeroShot.ts';
import './methods/zo.ts';
import './spamWorkload.ts';
import './methods/backprop.ts';

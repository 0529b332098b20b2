/**
 * Registers every built-in workload and method adapter (importing this module is enough): the
 * synthetic and e-mail tasks, zero-shot, the baselines (majority, linear-probe) and one method per
 * backprop optimizer. ZO estimator presets need no registration here: method.ts looks them up in
 * the src/zo registry when a method name is resolved.
 */
import '../kernels/index.ts';
import './synthetic.ts';
import './methods/zeroShot.ts';
import './spamWorkload.ts';
import './methods/backprop.ts';
import './methods/majority.ts';
import './methods/linearProbe.ts';

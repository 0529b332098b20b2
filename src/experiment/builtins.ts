/**
 * Registers every built-in workload and method adapter (importing this module is enough): the
 * synthetic and e-mail tasks, zero-shot, the baselines (majority, linear-probe), one method per
 * ZO estimator preset and one per backprop optimizer.
 */
import '../kernels/index.ts';
import './synthetic.ts';
import './methods/zeroShot.ts';
import './methods/zo.ts';
import './spamWorkload.ts';
import './methods/backprop.ts';
import './methods/majority.ts';
import './methods/linearProbe.ts';

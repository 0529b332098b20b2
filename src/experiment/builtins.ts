/**
 * Registers every built-in workload and method adapter (importing this module is enough): the
 * synthetic and e-mail tasks, zero-shot and the baselines (majority, linear-probe), and loads the
 * built-in backprop optimizers. ZO estimator presets and backprop optimizers need no method
 * registration: method.ts looks them up in the src/zo and src/galore registries when a method name
 * is resolved.
 */
import '../kernels/index.ts';
import './synthetic.ts';
import './methods/zeroShot.ts';
import './spamWorkload.ts';
import '../galore/builtins.ts';
import './methods/majority.ts';
import './methods/linearProbe.ts';

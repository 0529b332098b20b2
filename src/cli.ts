/**
 * The `zolo` command: a thin layer over the library. Each subcommand lives in src/cli/<name>.ts
 * and exports `register(program)`.
 */
import { Command } from 'commander';
import { ZoloError } from './kernels/errors.ts';
import { register as registerBackends } from './cli/backends.ts';
import { register as registerRun } from './cli/run.ts';
import { register as registerSuite } from './cli/suite.ts';
import { register as registerConfig } from './cli/config.ts';
import { register as registerDemo } from './cli/demo.ts';
import { register as registerMethods } from './cli/methods.ts';
import { register as registerReplay } from './cli/replay.ts';
import { register as registerMemory } from './cli/memory.ts';
import { register as registerPretrain } from './cli/pretrain.ts';
import { register as registerPredict } from './cli/predict.ts';
import { register as registerCheck } from './cli/check.ts';
import { register as registerLogits } from './cli/logits.ts';

const program = new Command()
  .name('zolo')
  .description('Zeroth-order and low-rank fine-tuning, head to head on the same models, data and kernels.')
  .showHelpAfterError();

registerBackends(program);
registerRun(program);
registerSuite(program);
registerConfig(program);
registerDemo(program);
registerMethods(program);
registerReplay(program);
registerMemory(program);
registerPretrain(program);
registerPredict(program);
registerCheck(program);
registerLogits(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ZoloError) {
    console.error(`${error.name}: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

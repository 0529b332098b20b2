/**
 * The `zolo` command: a thin layer over the library. Each subcommand lives in src/cli/<name>.ts
 * and exports `register(program)`.
 */
import { Command } from 'commander';
import { ZoloError } from './kernels/errors.ts';
import { register as registerBackends } from './cli/backends.ts';

const program = new Command()
  .name('zolo')
  .description('Zeroth-order and low-rank fine-tuning, head to head on the same models, data and kernels.')
  .showHelpAfterError();

registerBackends(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ZoloError) {
    console.error(`${error.name}: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

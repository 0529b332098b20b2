#!/usr/bin/env node
/**
 * The `zolo` command: a thin layer over the library. Each subcommand lives in src/cli/<name>.ts,
 * exports `register(program)` and is listed in src/cli/commands.ts. Only the module of the command
 * being run is imported; the command list (`zolo --help`) is built from the table alone.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { RunInterrupted } from './experiment/interrupt.ts';
import { ZoloError } from './errors.ts';
import { SUBCOMMANDS } from './cli/commands.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('zolo')
  .version(version, '-V, --version', 'print the zolo version')
  .description('Zeroth-order and low-rank fine-tuning, head to head on the same models, data and kernels.')
  .showHelpAfterError();

const [first, second] = process.argv.slice(2);
const requested = SUBCOMMANDS.find((command) => command.name === (first === 'help' ? second : first));
if (requested) {
  (await requested.load()).register(program);
} else {
  // listing only: these entries carry no options or action, and no subcommand was asked for
  for (const command of SUBCOMMANDS) program.command(command.args ? `${command.name} ${command.args}` : command.name).description(command.description);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof RunInterrupted) {
    console.error(error.message);
    process.exit(error.exitCode);
  }
  if (error instanceof ZoloError) {
    console.error(`${error.name}: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

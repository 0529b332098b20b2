import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import '../experiment/builtins.ts';
import { resolveRunConfig } from '../experiment/resolve.ts';
import { addRunConfigOptions } from './run.ts';

export function register(program: Command): void {
  addRunConfigOptions(
    program
      .command('config')
      .description(commandDescription('config'))
      .option('--print', 'print the resolved config as JSON (the default action)'),
  ).action((options: Record<string, unknown> & { set: string[]; config?: string }) => {
    const { set, config: configFile, print: _print, ...flags } = options;
    const config = resolveRunConfig({ ...(configFile ? { configFile } : {}), flags, sets: set });
    console.log(JSON.stringify(config, null, 2));
  });
}

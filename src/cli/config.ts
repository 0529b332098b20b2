import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import '../experiment/builtins.ts';
import { explainDefaults, resolveRunConfigWithPlugins } from '../experiment/resolve.ts';
import { addRunConfigOptions } from './run.ts';

export function register(program: Command): void {
  addRunConfigOptions(
    program
      .command('config')
      .description(commandDescription('config'))
      .option('--print', 'print the resolved config as JSON (the default action)'),
  ).action(async (options: Record<string, unknown> & { set: string[]; plugin: string[]; config?: string }) => {
    const { set, plugin, config: configFile, print: _print, ...flags } = options;
    const { config, rules } = explainDefaults(await resolveRunConfigWithPlugins({ ...(configFile ? { configFile } : {}), flags, sets: set, plugins: plugin }));
    console.log(JSON.stringify(config, null, 2));
    // stderr, so `zolo config … > run.json` still writes a config file
    for (const rule of rules) console.error(`default ${rule}`);
  });
}

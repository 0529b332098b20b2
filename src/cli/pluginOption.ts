/**
 * `--plugin <module>` (repeatable), the same on every command that reads a registry: the modules
 * are imported (src/experiment/plugins.ts) before the command checks any name, so the estimators,
 * backprop optimizers, methods or tasks they register are known to it.
 */
import type { Command } from 'commander';

/** Commander's accumulator of a repeatable flag. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addPluginOption(command: Command, registers: string): Command {
  return command.option('--plugin <module>', `import a module that registers ${registers} (repeatable)`, collect, [] as string[]);
}

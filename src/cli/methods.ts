/** `zolo methods [--json]`: every registered ZO estimator preset with its parts and option defaults. */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { createEstimator, listPresets, optionSpecs } from '../zo/index.ts';

export interface MethodListing {
  name: string;
  description: string;
  reference: string;
  parts: { perturbation: string; schedule: string; difference: string; optimizer: string };
  options: { name: string; value: number; description: string; source: string }[];
  notes: string[];
}

/** The listing `zolo methods` prints, as data (also used by docs and the runner's help). */
export function methodListings(): MethodListing[] {
  return listPresets().map((preset) => {
    const estimator = createEstimator(preset.name);
    const specs = optionSpecs(estimator.parts);
    return {
      name: preset.name,
      description: preset.description,
      reference: preset.reference,
      parts: { ...preset.parts },
      options: Object.entries(specs).map(([name, spec]) => ({
        name,
        value: estimator.options[name]!,
        description: spec.description,
        source: preset.defaults[name]?.source ?? spec.source,
      })),
      notes: [...(preset.notes ?? [])],
    };
  });
}

const formatValue = (value: number): string => (value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value));

export function register(program: Command): void {
  program
    .command('methods')
    .description(commandDescription('methods'))
    .option('--json', 'machine-readable output')
    .option('--plugin <module>', 'import a module that registers estimator presets first, to list them too (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action(async (options: { json?: boolean; plugin: string[] }) => {
      await loadPlugins(options.plugin, '--plugin');
      const listings = methodListings();
      if (options.json) {
        console.log(JSON.stringify(listings, null, 2));
        return;
      }
      for (const method of listings) {
        const { perturbation, schedule, difference, optimizer } = method.parts;
        console.log(`${method.name} — ${method.description}`);
        console.log(`  parts: ${perturbation} × ${schedule} × ${difference} × ${optimizer}`);
        console.log(`  ref:   ${method.reference}`);
        for (const option of method.options) {
          console.log(`  ${option.name.padEnd(14)} ${formatValue(option.value).padEnd(8)} ${option.description} [${option.source}]`);
        }
        for (const note of method.notes) console.log(`  note: ${note}`);
        console.log('');
      }
      console.log('Override any option with --set options.<name>=<value> in `zolo run`, or swap a part with --set options.optimizer=adam.');
    });
}

/**
 * `zolo methods [--json] [--plugin M]`: every registered method that trains — the ZO estimator
 * presets with their parts and option defaults, then the backprop optimizers with their update rule,
 * how the method uses it (plain, GaLore's projection, LoRA adapters, fused backward) and defaults.
 */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption } from './pluginOption.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import '../galore/builtins.ts';
import { backpropOptimizer, backpropOptimizerNames, defaultLrOf, describeOptimizer, optionShapes } from '../galore/registry.ts';
import { createEstimator, listPresets, optionSpecs } from '../zo/index.ts';

export interface MethodListing {
  family: 'zo';
  name: string;
  description: string;
  reference: string;
  parts: { perturbation: string; schedule: string; difference: string; optimizer: string };
  options: { name: string; value: number; description: string; source: string }[];
  notes: string[];
}

export interface BackpropMethodListing {
  family: 'backprop';
  name: string;
  description: string;
  reference: string;
  /** the composition: the rule, galore(rule), the rule on LoRA adapters; "fused backward" when it updates inside backward. */
  rule: string;
  defaults: { lr: number; weightDecay: number };
  /** the `options.<key>` it accepts. */
  options: string[];
}

/** The ZO part of the listing `zolo methods` prints, as data. */
export function methodListings(): MethodListing[] {
  return listPresets().map((preset) => {
    const estimator = createEstimator(preset.name);
    const specs = optionSpecs(estimator.parts);
    return {
      family: 'zo',
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

/** The backprop part of the listing, from the optimizer registry as it is now. */
export function backpropListings(): BackpropMethodListing[] {
  return backpropOptimizerNames().map((name) => {
    const entry = backpropOptimizer(name);
    const rule = entry.galore ? `galore(${entry.rule.name})` : entry.adapters ? `${entry.rule.name} on ${entry.adapters} adapters` : entry.rule.name;
    return {
      family: 'backprop',
      name,
      description: describeOptimizer(entry),
      reference: entry.rule.reference,
      rule: entry.rule.fusedBackward ? `${rule}, fused backward` : rule,
      defaults: { lr: defaultLrOf(entry), weightDecay: entry.rule.defaultWeightDecay },
      options: Object.keys(optionShapes(entry)),
    };
  });
}

const formatValue = (value: number): string => (value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value));

export function register(program: Command): void {
  addPluginOption(
    program
      .command('methods')
      .description(commandDescription('methods'))
      .option('--json', 'machine-readable output'),
    'estimator presets or backprop optimizers, to list them too',
  ).action(async (options: { json?: boolean; plugin: string[] }) => {
    await loadPlugins(options.plugin, '--plugin');
    const listings = methodListings();
    const backprop = backpropListings();
    if (options.json) {
      console.log(JSON.stringify([...listings, ...backprop], null, 2));
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
    console.log('');
    console.log('Backprop methods (tape gradients):');
    for (const method of backprop) {
      console.log(`${method.name} — ${method.description}`);
      console.log(`  rule:    ${method.rule}`);
      console.log(`  ref:     ${method.reference}`);
      console.log(`  lr ${formatValue(method.defaults.lr)}, weight decay ${formatValue(method.defaults.weightDecay)}; options: ${method.options.join(', ')}`);
      console.log('');
    }
  });
}

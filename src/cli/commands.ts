/**
 * The subcommands of `zolo`: name, usage arguments, one-line description, and the module that
 * registers the full command. A module is imported only when its command runs, so `zolo --help`
 * loads none of them (no model, kernel or plotting code).
 */
import type { Command } from 'commander';

export interface SubcommandEntry {
  readonly name: string;
  /** the usage arguments shown in the command list, as commander writes them (`<file>`, `[dir]`). */
  readonly args?: string;
  readonly description: string;
  readonly load: () => Promise<{ register(program: Command): void }>;
}

export const SUBCOMMANDS: readonly SubcommandEntry[] = [
  { name: 'backends', description: 'list the kernel backends, the mode each runs in on this machine, and the default', load: () => import('./backends.ts') },
  { name: 'run', description: 'fine-tune (or evaluate) a model on a task with one method; writes metrics.jsonl, summary.json, checkpoints', load: () => import('./run.ts') },
  { name: 'suite', args: '<file>', description: 'run a grid of runs (methods × hyperparameters × seeds) and write results.json, report.md and SVG plots; --queue spreads the runs over workers', load: () => import('./suite.ts') },
  { name: 'worker', description: 'run suite jobs from a Redis queue (zolo suite --queue), each run in its own process', load: () => import('./worker.ts') },
  { name: 'replica', description: 'join a data-parallel ZO run (zolo run --replicas N --queue URL) as one more replica', load: () => import('./replica.ts') },
  { name: 'config', description: 'resolve a run config (defaults < --config < flags < --set), validate it and print it', load: () => import('./config.ts') },
  { name: 'demo', description: 'a reduced head-to-head (benchmarks/suites/demo.json: every method that exists, small budget) on the pretrained tiny checkpoint and the e-mail task', load: () => import('./demo.ts') },
  { name: 'methods', description: 'list the methods that train: zeroth-order estimator presets (perturbation × schedule × difference × optimizer) and backprop optimizers (update rule, GaLore, adapters), with defaults', load: () => import('./methods.ts') },
  { name: 'replay', args: '[dir]', description: "rebuild a ZO run's final parameters from its starting parameters and zo-log.jsonl, without any forward pass", load: () => import('./replay.ts') },
  { name: 'memory', description: 'analytic memory (weights, gradients, optimizer state) of a model under a training method', load: () => import('./memory.ts') },
  { name: 'pretrain', description: 'pretrain a causal LM preset on the SpamAssassin training split (tape + AdamW, or any backprop optimizer) and write a checkpoint directory', load: () => import('./pretrain.ts') },
  { name: 'predict', description: 'classify e-mails (ham/spam) with a checkpoint directory; writes class probabilities and raw logits per line', load: () => import('./predict.ts') },
  { name: 'card', description: "compute a checkpoint's card metrics (bits per byte, class prior, zero-shot and linear-probe accuracy); print them, or update card.json with --write", load: () => import('./card.ts') },
  { name: 'logits', description: 'next-token logits at the last position of a Hugging Face model folder (GPT-2, OPT, LLaMA, Qwen2)', load: () => import('./logits.ts') },
  { name: 'check', description: 'test the assumptions behind ZO and low-rank convergence proofs on a model + task; writes report.md, check.json and SVG plots', load: () => import('./check.ts') },
];

export function commandDescription(name: string): string {
  const entry = SUBCOMMANDS.find((command) => command.name === name);
  if (!entry) throw new Error(`no subcommand "${name}" in SUBCOMMANDS`);
  return entry.description;
}

/**
 * `npm run bench:galore-finetune`: fine-tuning the pretrained tiny checkpoint (checkpoints/tiny) on
 * the e-mail task with `zolo run`, one run per method, same seed, batch 16, constant lr:
 * AdamW, GaLore-AdamW (r = 32, α = 1, T = 200), GaLore-AdamW 8-bit, LoRA (r = 8), ReLoRA (K = 50)
 * for 200 steps, and MeZO for 1000 steps (it needs many more, cheaper steps). lr per family: full
 * fine-tuning 1e-4 (the PyTorch yardstick's AdamW), LoRA 1e-3, MeZO 1e-4 with ε 1e-3 (the
 * yardstick's best MeZO setting). Validation accuracy (400 examples) every 50 steps (MeZO: 250),
 * with wall time, and the ledger's peak memory from each summary.json.
 * Writes benchmarks/results/galore-finetune.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const resultsDir = join(here, '..', 'results');
// relative to the repository (the runs' cwd), so the results record no machine path
const checkpoint = join('checkpoints', 'tiny');

const runs: { label: string; method: string; steps: number; lr: number; evalInterval: number; sets: string[] }[] = [
  { label: 'AdamW', method: 'adamw', steps: 200, lr: 1e-4, evalInterval: 50, sets: [] },
  { label: 'GaLore-AdamW r=32', method: 'galore-adamw', steps: 200, lr: 1e-4, evalInterval: 50, sets: ['options.galore={"rank":32,"scale":1}'] },
  { label: 'GaLore-AdamW 8-bit r=32', method: 'galore-adamw8bit', steps: 200, lr: 1e-4, evalInterval: 50, sets: ['options.galore={"rank":32,"scale":1}'] },
  { label: 'LoRA r=8', method: 'lora', steps: 200, lr: 1e-3, evalInterval: 50, sets: [] },
  { label: 'ReLoRA r=8, K=50', method: 'relora', steps: 200, lr: 1e-3, evalInterval: 50, sets: ['options.relora={"resetEvery":50,"rewarmupSteps":10}'] },
  { label: 'MeZO', method: 'mezo', steps: 1000, lr: 1e-4, evalInterval: 250, sets: ['options.eps=1e-3'] },
];

interface Summary {
  eval: { accuracy: number };
  memory: { peakBytes: { total: number; optimizerState: number; gradient: number; activation: number } };
  timing: { wallSeconds: number; stepMsMedian: number };
  trainableParams: number;
}

const results = [];
if (!existsSync(join(root, checkpoint))) throw new Error(`needs the pretrained checkpoint at ${checkpoint} (zolo pretrain --model tiny)`);
for (const run of runs) {
  const out = join(tmpdir(), `zolo-galore-finetune-${run.method}`);
  execFileSync('node', [join(root, 'bin', 'zolo.js'), 'run', '--method', run.method, '--task', 'spam', '--model', checkpoint,
    '--steps', String(run.steps), '--batch-size', '16', '--lr', String(run.lr), '--lr-schedule', 'constant', '--seed', '0',
    '--eval-interval', String(run.evalInterval), '--eval-size', '400', '--out', out, '--force', ...run.sets.flatMap((s) => ['--set', s])],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const curve = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    .filter((m) => m.eval).map((m) => ({ step: m.step, wallSeconds: m.wallMs / 1000, accuracy: m.eval.accuracy }));
  results.push({ ...run, summary, curve });
  console.log(`${run.label}: accuracy ${summary.eval.accuracy}, ${summary.timing.wallSeconds.toFixed(0)} s`);
}

mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'galore-finetune.json'), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
const md = [
  '# Fine-tuning the pretrained tiny model on the e-mail task: GaLore vs AdamW vs LoRA vs MeZO',
  '',
  `${new Date().toISOString()}. \`zolo run --task spam --model checkpoints/tiny\`, batch 16, constant lr, seed 0; validation accuracy on 400 examples (majority class 68.5%). One seed.`,
  '',
  '| method | lr | trainable | accuracy vs step (wall s) | final accuracy | peak total | optimizer state | gradients | activations |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.label} | ${r.lr} | ${r.summary.trainableParams.toLocaleString('en-US')} | ${r.curve.map((c) => `${c.step}: ${(c.accuracy * 100).toFixed(1)}% (${c.wallSeconds.toFixed(0)} s)`).join(', ')} | ${(r.summary.eval.accuracy * 100).toFixed(1)}% | ${mib(r.summary.memory.peakBytes.total)} MiB | ${mib(r.summary.memory.peakBytes.optimizerState)} MiB | ${mib(r.summary.memory.peakBytes.gradient)} MiB | ${mib(r.summary.memory.peakBytes.activation)} MiB |`),
  '',
];
writeFileSync(join(resultsDir, 'galore-finetune.md'), md.join('\n'));
console.log(md.join('\n'));

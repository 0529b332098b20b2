/**
 * `npm run bench:profile`: where the time of each repeated unit of work goes, per backend op, on
 * the encoder classifier (batch 16) of each preset:
 *   forward       logits + mean CE, no tape (the ZO loss closure)
 *   mezo          one MeZO step (perturb +ε, forward, −2ε, forward, restore fused with the update)
 *   adamw         valueAndGrad (forward under the tape + backward) + one AdamW step
 *   galore-adamw  the same with GaLore-AdamW (steady state: the projector refresh is amortised away)
 * Each phase is timed unprofiled (median of `rounds`), then profiled over `passes` more calls
 * (benchmarks/step/profile.ts wraps every backend method); "outside ops" is the unprofiled median
 * minus the ops' mean total: JavaScript between kernels (tape bookkeeping, allocation, shape checks).
 * Writes benchmarks/results/profile-<preset><suffix>.json and profile<suffix>.md. Never fails for being slow.
 *
 *   npm run bench:profile -- [--presets tiny,small] [--threads N] [--rounds R] [--suffix -before]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/galore/builtins.ts';
import { TORCH_ADAMW_DEFAULTS } from '../../src/galore/defaults.ts';
import { createOptimizer } from '../../src/galore/registry.ts';
import { createBackend } from '../../src/kernels/index.ts';
import { createModel, disposeGrads, valueAndGrad } from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/index.ts';
import { createEstimator } from '../../src/zo/index.ts';
import { profile } from './profile.ts';
import { BATCH, EPS, LR, makeBatch } from './setup.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
/** ops listed per phase in the Markdown (the JSON keeps all). */
const TOP_OPS = 14;

function option(argv: string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

const argv = process.argv.slice(2);
const presets = (option(argv, '--presets') ?? 'tiny,small').split(',');
const threads = Number(option(argv, '--threads') ?? availableParallelism());
const rounds = Number(option(argv, '--rounds') ?? 15);
const suffix = option(argv, '--suffix') ?? '';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

interface PhaseResult {
  phase: string;
  medianMs: number;
  opsMs: number;
  outsideOpsMs: number;
  ops: { op: string; calls: number; ms: number; share: number }[];
}

async function profilePreset(preset: string): Promise<Record<string, unknown>> {
  const loadBefore = loadavg()[0]!;
  const backend = await createBackend('wasm', { threads });
  const engine = new Engine(backend);
  const model = createModel(engine, { kind: 'encoder-classifier', preset, classes: 2, seed: 0 });
  const batch = makeBatch(model.config.vocab, model.config.seq);
  const mezo = createEstimator('mezo', { eps: EPS, lr: LR });
  let mezoState = mezo.init(model.params, { seed: 0 });
  const optimizers = {
    adamw: createOptimizer('adamw', model.params, { ...TORCH_ADAMW_DEFAULTS, lr: LR }),
    'galore-adamw': createOptimizer('galore-adamw', model.params, { lr: LR }),
  };
  const backprop = (name: keyof typeof optimizers) => async (): Promise<void> => {
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
    await optimizers[name].step(grads);
    disposeGrads(grads);
  };
  const phases: [string, () => Promise<void>][] = [
    ['forward', async () => {
      await model.loss(batch);
    }],
    ['mezo', async () => {
      mezoState = (await mezo.step(mezoState, { loss: () => model.loss(batch) })).state;
    }],
    ['adamw', backprop('adamw')],
    ['galore-adamw', backprop('galore-adamw')],
  ];
  const results: PhaseResult[] = [];
  for (const [phase, work] of phases) {
    for (let i = 0; i < 3; i++) await work();
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      await work();
      times.push(performance.now() - start);
    }
    const profiler = profile(backend);
    const passes = Math.max(3, Math.ceil(rounds / 3));
    for (let i = 0; i < passes; i++) await work();
    profiler.restore();
    const stats = profiler.stats();
    const opsMs = stats.reduce((s, o) => s + o.ms, 0) / passes;
    const medianMs = median(times);
    results.push({
      phase, medianMs: round3(medianMs), opsMs: round3(opsMs), outsideOpsMs: round3(medianMs - opsMs),
      ops: stats.map((o) => ({ op: o.op, calls: o.calls / passes, ms: round3(o.ms / passes), share: round3(o.ms / passes / medianMs) })),
    });
    console.log(`${preset} ${phase}: ${medianMs.toFixed(2)} ms (ops ${opsMs.toFixed(2)} ms)`);
  }
  for (const optimizer of Object.values(optimizers)) optimizer.dispose();
  const mode = backend.mode;
  backend.dispose();
  return {
    preset, batch: BATCH, mode, threads, rounds, date: new Date().toISOString(),
    load_average: [round3(loadBefore), round3(loadavg()[0]!)], phases: results,
  };
}

function markdown(results: Record<string, unknown>[]): string {
  const lines = [`# Per-op profile: forward, MeZO step, backprop steps (\`npm run bench:profile${suffix ? ` -- --suffix ${suffix}` : ''}\`)`, ''];
  lines.push('Encoder classifier, batch 16, wasm backend. Phase time: unprofiled median; op times: mean per call of the phase under the profiler;');
  lines.push('"outside ops" = phase median − sum of op times (JavaScript between kernels). Shares are of the phase median.', '');
  for (const r of results) {
    const phases = r.phases as PhaseResult[];
    lines.push(`## ${String(r.preset)} (${String(r.mode)}, ${String(r.date)}, 1-minute load average ${(r.load_average as number[]).join(' → ')})`, '');
    lines.push('| phase | median ms | ops ms | outside ops ms |', '| --- | --- | --- | --- |');
    for (const p of phases) lines.push(`| ${p.phase} | ${p.medianMs} | ${p.opsMs} | ${p.outsideOpsMs} |`);
    for (const p of phases) {
      lines.push('', `### ${String(r.preset)} ${p.phase}`, '', '| op | calls | ms | share |', '| --- | --- | --- | --- |');
      for (const o of p.ops.slice(0, TOP_OPS)) lines.push(`| ${o.op} | ${o.calls} | ${o.ms} | ${(o.share * 100).toFixed(1)}% |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

const all: Record<string, unknown>[] = [];
mkdirSync(resultsDir, { recursive: true });
for (const preset of presets) {
  const result = await profilePreset(preset);
  writeFileSync(join(resultsDir, `profile-${preset}${suffix}.json`), `${JSON.stringify(result, null, 1)}\n`);
  all.push(result);
}
const md = markdown(all);
writeFileSync(join(resultsDir, `profile${suffix}.md`), md);
console.log(md);

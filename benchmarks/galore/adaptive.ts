/**
 * `npm run bench:galore-adaptive`: fixed update gap T vs the adaptive gap (refresh when the basis
 * captures less than a threshold of ‖G‖²) on a problem where switching subspaces is necessary
 * (galore.md §6.15): minimise ½‖(W − W*)X‖² with W 64×128, W* of rank 16 > r = 4, X Gaussian
 * (128 × 256), GaLore-AdamW (lr 1e-2, α = 1), 600 steps. Reports the final loss ÷ initial and
 * the number of SVDs, i.e. what each schedule buys per refresh. Writes
 * benchmarks/results/galore-adaptive.{json,md}. Synthetic and small: it shows the mechanism, not a
 * language-model result (that needs the runner's pretraining/fine-tuning suites).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/galore/builtins.ts';
import type { GaLoreSettings, GaLoreState } from '../../src/galore/galore.ts';
import { createOptimizer } from '../../src/galore/registry.ts';
import type { RuleOptimizer } from '../../src/galore/ruleOptimizer.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { fillNormals } from '../../src/kernels/rng.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { ParamStore } from '../../src/tensor/params.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const [M, N, SAMPLES, TARGET_RANK, RANK, STEPS] = [64, 128, 256, 16, 4, 600];

function gaussian(length: number, seed: number, stream: number): Float64Array {
  const out = new Float64Array(length);
  fillNormals(out, seed, stream);
  return out;
}

function hostMatmul(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let p = 0; p < k; p++) {
    const a = A[i * k + p]!;
    for (let j = 0; j < c; j++) C[i * c + j]! += a * B[p * c + j]!;
  }
  return C;
}

const target = hostMatmul(gaussian(M * TARGET_RANK, 1, 0), gaussian(TARGET_RANK * N, 1, 1), M, TARGET_RANK, N).map((x) => x / Math.sqrt(TARGET_RANK));
const X = gaussian(N * SAMPLES, 2, 0);
const covariance = new Float64Array(N * N);
for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
  let sum = 0;
  for (let s = 0; s < SAMPLES; s++) sum += X[i * SAMPLES + s]! * X[j * SAMPLES + s]!;
  covariance[i * N + j] = sum / SAMPLES;
}

async function run(label: string, galore: GaLoreSettings) {
  const engine = new Engine(new CpuBackend(), new MemoryLedger());
  const store = new ParamStore(engine);
  const param = store.add('attn.w', 'attention', [M, N], new Float32Array(M * N));
  const targetTensor = engine.fromArray(Float32Array.from(target), [M, N], 'workspace');
  const cov = engine.fromArray(Float32Array.from(covariance), [N, N], 'workspace');
  const optimizer = createOptimizer('galore-adamw', store, { lr: 1e-2, galore: { rank: RANK, scale: 1, targetModules: ['attn'], ...galore } }) as RuleOptimizer<GaLoreState>;
  const loss = (): number => {
    const W = param.tensor.readSync();
    const D = Float64Array.from(W, (w, i) => w - target[i]!);
    const DC = hostMatmul(D, covariance, M, N, N);
    return D.reduce((s, d, i) => s + d * DC[i]!, 0) / 2;
  };
  const initial = loss();
  const curve: { step: number; ratio: number }[] = [];
  for (let step = 0; step < STEPS; step++) {
    const difference = engine.zeros([M, N], 'workspace');
    engine.backend.binary('sub', param.tensor.buffer, targetTensor.buffer, difference.buffer, [1, 1, M * N], [0, 0, 1]);
    const grad = engine.zeros([M, N], 'gradient');
    engine.backend.matmul(difference.buffer, cov.buffer, grad.buffer, { batch: 1, m: M, n: N, k: N });
    await optimizer.stepParam(param, grad);
    grad.dispose();
    difference.dispose();
    if ((step + 1) % 100 === 0) curve.push({ step: step + 1, ratio: loss() / initial });
  }
  const svdCalls = optimizer.stateOf(param)!.rule.projector!.svdCalls;
  const row = { label, galore, finalRatio: loss() / initial, svdCalls, curve };
  console.log(`${label.padEnd(34)} final loss ÷ initial ${row.finalRatio.toExponential(3)}, SVDs ${svdCalls}`);
  return row;
}

const settings: [string, GaLoreSettings][] = [
  ['fixed T = 10', { updateGap: 10 }],
  ['fixed T = 50', { updateGap: 50 }],
  ['fixed T = 200', { updateGap: 200 }],
  ['fixed T = ∞ (never switch)', { updateGap: 1_000_000 }],
  ['adaptive, threshold 0.5, check 10', { adaptive: { threshold: 0.5, checkEvery: 10, maxGap: 1000 } }],
  ['adaptive, threshold 0.7, check 10', { adaptive: { threshold: 0.7, checkEvery: 10, maxGap: 1000 } }],
  ['adaptive, threshold 0.9, check 10', { adaptive: { threshold: 0.9, checkEvery: 10, maxGap: 1000 } }],
  ['adaptive, threshold 0.7, check 25', { adaptive: { threshold: 0.7, checkEvery: 25, maxGap: 1000 } }],
];
const rows = [];
for (const [label, galore] of settings) rows.push(await run(label, galore));

mkdirSync(resultsDir, { recursive: true });
const meta = { date: new Date().toISOString(), problem: `½‖(W − W*)X‖², W ${M}×${N}, rank(W*) = ${TARGET_RANK}, r = ${RANK}, ${STEPS} steps, lr 1e-2, α = 1` };
writeFileSync(join(resultsDir, 'galore-adaptive.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
writeFileSync(join(resultsDir, 'galore-adaptive.md'), [
  '# GaLore update gap: fixed T vs adaptive (captured-energy threshold)',
  '',
  `${meta.date}. ${meta.problem}. Loss ÷ initial loss after 100…600 steps; SVDs = refreshes performed.`,
  '',
  `| schedule | SVDs | ${rows[0]!.curve.map((c) => `step ${c.step}`).join(' | ')} |`,
  `| --- | --- | ${rows[0]!.curve.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.label} | ${r.svdCalls} | ${r.curve.map((c) => c.ratio.toExponential(2)).join(' | ')} |`),
  '',
].join('\n'));

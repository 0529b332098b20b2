/**
 * `npm run bench:galore-projector`: time of GaLore's projector refresh as a run does it
 * (GradientProjector.refresh on the default backend) — exact SVD (ml-matrix, float64) vs the
 * randomized range finder (Halko et al. 2011; p = 10, q = 2; its products on the backend) — at the
 * weight shapes of zolo's tiny and small models and of a 130M-parameter LLaMA (bench:models), and
 * the ranks used with them, plus how much of the gradient's energy each basis captures
 * (‖PᵀG‖²/‖G‖², randomized ÷ exact). Test matrices have a power-law
 * spectrum σ_i = i^(-1) (gradients are approximately low-rank; galore.md §5.1), built as U·diag(σ)·Vᵀ
 * from seeded Gaussian factors. Also times one projection + back-projection on the backend (the
 * per-step cost). Writes benchmarks/results/galore-projector.{json,md}. Never fails for being slow.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GradientProjector, resolveProjectorOptions } from '../../src/galore/projector.ts';
import { createBackend } from '../../src/kernels/index.ts';
import { fillNormals } from '../../src/kernels/rng.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const REPEAT_SECONDS = 1.5;
const MAX_REPS = 15;

const SHAPES: { model: string; layer: string; m: number; n: number; ranks: number[] }[] = [
  { model: 'tiny', layer: 'attn.qkv', m: 384, n: 128, ranks: [8, 32] },
  { model: 'tiny', layer: 'attn.proj', m: 128, n: 128, ranks: [8, 32] },
  { model: 'tiny', layer: 'mlp.fc1', m: 512, n: 128, ranks: [8, 32] },
  { model: 'tiny', layer: 'mlp.fc2', m: 128, n: 512, ranks: [8, 32] },
  { model: 'small', layer: 'attn.qkv', m: 768, n: 256, ranks: [8, 32] },
  { model: 'small', layer: 'mlp.fc1', m: 1024, n: 256, ranks: [8, 32] },
  { model: 'llama-130m', layer: 'mlp.up_proj', m: 2048, n: 768, ranks: [256] },
  { model: 'llama-130m', layer: 'self_attn.q_proj', m: 768, n: 768, ranks: [256] },
];

function powerLawMatrix(m: number, n: number, seed: number): Float64Array {
  const a = Math.min(m, n);
  const U = new Float64Array(m * a);
  const V = new Float64Array(n * a);
  fillNormals(U, seed, 1);
  fillNormals(V, seed, 2);
  const G = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < a; p++) {
      const u = U[i * a + p]! / (p + 1);
      for (let j = 0; j < n; j++) G[i * n + j]! += u * V[j * a + p]!;
    }
  }
  return G;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time(fn: () => unknown): Promise<number> {
  await fn(); // warm-up
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MAX_REPS && (samples.length === 0 || performance.now() - start < REPEAT_SECONDS * 1000)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

/** ‖PᵀG‖² for a left basis P (m×k) or ‖G Vₖ‖² for a right one (Vhₖ k×n), from the projector's tensors. */
function captured(G: Float64Array, m: number, n: number, k: number, projector: GradientProjector): number {
  const left = projector.left?.readSync() ?? null;
  const rightT = projector.rightT?.readSync() ?? null;
  let sum = 0;
  if (left) {
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += left[i * k + p]! * G[i * n + j]!;
      sum += dot * dot;
    }
  } else {
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += G[i * n + j]! * rightT![p * n + j]!;
      sum += dot * dot;
    }
  }
  return sum;
}

const backend = await createBackend();
const engine = new Engine(backend, new MemoryLedger());
const rows = [];
for (const shape of SHAPES) {
  const { m, n } = shape;
  const G = powerLawMatrix(m, n, 7);
  const grad = engine.fromArray(Float32Array.from(G), [m, n], 'gradient');
  for (const rank of shape.ranks) {
    const exact = new GradientProjector(engine, shape.layer, [m, n], resolveProjectorOptions({ rank, svd: 'exact' }), 0);
    const randomized = new GradientProjector(engine, shape.layer, [m, n], resolveProjectorOptions({ rank, svd: 'randomized' }), 0);
    const exactMs = await time(() => exact.refresh(grad, 0));
    const randomizedMs = await time(() => randomized.refresh(grad, 0));
    const energyRatio = captured(G, m, n, exact.rank, randomized) / captured(G, m, n, exact.rank, exact);
    // per-step cost on the backend: project + back-project into the weight
    const weight = engine.zeros([m, n], 'weights');
    const stepMs = await time(() => {
      const low = exact.project(grad);
      exact.accumulateBack(low, weight, -1e-3);
      low.dispose();
    });
    weight.dispose();
    const row = { model: shape.model, layer: shape.layer, m, n, rank, exactMs, randomizedMs, speedup: exactMs / randomizedMs, energyRatio, projectStepMs: stepMs };
    rows.push(row);
    console.log(`${shape.model} ${shape.layer} ${m}×${n} r=${rank}: exact ${exactMs.toFixed(1)} ms, randomized ${randomizedMs.toFixed(1)} ms (×${row.speedup.toFixed(1)}), energy ratio ${energyRatio.toFixed(5)}, project+back ${stepMs.toFixed(2)} ms`);
  }
  grad.dispose();
}
backend.dispose();

mkdirSync(resultsDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, backend: backend.mode, repeatSeconds: REPEAT_SECONDS, spectrum: 'σ_i = 1/i', randomized: { oversampling: 10, powerIterations: 2 } };
writeFileSync(join(resultsDir, 'galore-projector.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
const md = [
  '# GaLore projector refresh: exact SVD vs randomized range finder',
  '',
  `Measured ${meta.date} on the ${meta.backend} backend (the randomized route's products run there; the orthogonalizations and the exact SVD on the host in float64), Node ${meta.node}; median of up to ${MAX_REPS} refreshes. Test gradients have spectrum σ_i = 1/i.`,
  'Energy ratio = ‖PᵀG‖² captured by the randomized basis ÷ by the exact basis (1 = as good as exact).',
  '`project + back` is the per-step cost on the backend (R = proj(G), W += −lr·back(R)).',
  '',
  '| model | layer | shape | r | exact SVD (ms) | randomized (ms) | speed-up | energy ratio | project + back (ms) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.model} | ${r.layer} | ${r.m}×${r.n} | ${r.rank} | ${r.exactMs.toFixed(1)} | ${r.randomizedMs.toFixed(1)} | ${r.speedup.toFixed(1)}× | ${r.energyRatio.toFixed(4)} | ${r.projectStepMs.toFixed(2)} |`),
  '',
];
writeFileSync(join(resultsDir, 'galore-projector.md'), md.join('\n'));

/**
 * `npm run bench:galore-projector`: time of GaLore's projector refresh — exact SVD (ml-matrix,
 * float64) vs the randomized range finder (Halko et al. 2011; p = 10, q = 2) — at the weight
 * shapes of zolo's tiny and small models and the ranks we use, plus how much of the gradient's
 * energy each basis captures (‖PᵀG‖²/‖G‖², randomized ÷ exact). Test matrices have a power-law
 * spectrum σ_i = i^(-1) (gradients are approximately low-rank; galore.md §5.1), built as U·diag(σ)·Vᵀ
 * from seeded Gaussian factors. Also times one projection + back-projection on the backend (the
 * per-step cost). Writes benchmarks/results/galore-projector.{json,md}. Never fails for being slow.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GradientProjector, resolveProjectorOptions } from '../../src/galore/projector.ts';
import { exactTopSvd, randomizedTopSvd } from '../../src/galore/svd.ts';
import { BuiltinNoisePurpose, noiseKey } from '../../src/kernels/noiseStreams.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { fillNormals } from '../../src/kernels/rng.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
const REPEAT_SECONDS = 1.5;
const MAX_REPS = 15;

const SHAPES: { model: string; layer: string; m: number; n: number }[] = [
  { model: 'tiny', layer: 'attn.qkv', m: 384, n: 128 },
  { model: 'tiny', layer: 'attn.proj', m: 128, n: 128 },
  { model: 'tiny', layer: 'mlp.fc1', m: 512, n: 128 },
  { model: 'tiny', layer: 'mlp.fc2', m: 128, n: 512 },
  { model: 'small', layer: 'attn.qkv', m: 768, n: 256 },
  { model: 'small', layer: 'mlp.fc1', m: 1024, n: 256 },
];
const RANKS = [8, 32];

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

function time(fn: () => void): number {
  fn(); // warm-up
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MAX_REPS && (samples.length === 0 || performance.now() - start < REPEAT_SECONDS * 1000)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

/** ‖UₖᵀG‖² for the left basis (m ≤ n) or ‖G Vₖ‖² for the right one, from the basis rows/cols. */
function captured(G: Float64Array, m: number, n: number, k: number, left: Float64Array | null, rightT: Float64Array | null): number {
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

const rows = [];
for (const shape of SHAPES) {
  const { m, n } = shape;
  const G = powerLawMatrix(m, n, 7);
  const want = { left: m < n, right: m >= n };
  for (const rank of RANKS) {
    const exactMs = time(() => exactTopSvd(G, m, n, rank, want));
    const randomizedMs = time(() => randomizedTopSvd(G, m, n, rank, want, { oversampling: 10, powerIterations: 2, key: noiseKey(1, 0, BuiltinNoisePurpose.galoreRandomizedSvd) }));
    const exact = exactTopSvd(G, m, n, rank, want);
    const randomized = randomizedTopSvd(G, m, n, rank, want, { oversampling: 10, powerIterations: 2, key: noiseKey(1, 0, BuiltinNoisePurpose.galoreRandomizedSvd) });
    const energyRatio = captured(G, m, n, rank, randomized.left, randomized.rightT) / captured(G, m, n, rank, exact.left, exact.rightT);
    // per-step cost on the backend: project + back-project into the weight
    const engine = new Engine(new CpuBackend(), new MemoryLedger());
    const projector = new GradientProjector(engine, shape.layer, [m, n], resolveProjectorOptions({ rank }), 0);
    const grad = engine.fromArray(Float32Array.from(G), [m, n], 'gradient');
    const weight = engine.zeros([m, n], 'weights');
    projector.refresh(grad, 0);
    const stepMs = time(() => {
      const low = projector.project(grad);
      projector.accumulateBack(low, weight, -1e-3);
      low.dispose();
    });
    const row = { ...shape, rank, exactMs, randomizedMs, speedup: exactMs / randomizedMs, energyRatio, projectStepMs: stepMs };
    rows.push(row);
    console.log(`${shape.model} ${shape.layer} ${m}×${n} r=${rank}: exact ${exactMs.toFixed(1)} ms, randomized ${randomizedMs.toFixed(1)} ms (×${row.speedup.toFixed(1)}), energy ratio ${energyRatio.toFixed(5)}, project+back ${stepMs.toFixed(2)} ms`);
  }
}

mkdirSync(resultsDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, backend: 'cpu', repeatSeconds: REPEAT_SECONDS, spectrum: 'σ_i = 1/i', randomized: { oversampling: 10, powerIterations: 2 } };
writeFileSync(join(resultsDir, 'galore-projector.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
const md = [
  '# GaLore projector refresh: exact SVD vs randomized range finder',
  '',
  `Measured ${meta.date} on the cpu backend, Node ${meta.node}; median of up to ${MAX_REPS} runs. Test gradients have spectrum σ_i = 1/i.`,
  'Energy ratio = ‖PᵀG‖² captured by the randomized basis ÷ by the exact basis (1 = as good as exact).',
  '`project + back` is the per-step cost on the backend (R = proj(G), W += −lr·back(R)).',
  '',
  '| model | layer | shape | r | exact SVD (ms) | randomized (ms) | speed-up | energy ratio | project + back (ms) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.model} | ${r.layer} | ${r.m}×${r.n} | ${r.rank} | ${r.exactMs.toFixed(1)} | ${r.randomizedMs.toFixed(1)} | ${r.speedup.toFixed(1)}× | ${r.energyRatio.toFixed(4)} | ${r.projectStepMs.toFixed(2)} |`),
  '',
];
writeFileSync(join(resultsDir, 'galore-projector.md'), md.join('\n'));

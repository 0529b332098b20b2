/**
 * `npm run bench:tt`: a TT-matrix times a batch of vectors, contracted core by core without forming
 * W (src/tensortrain/ttMatrix.ts), against the dense product with the same W, and AdaZeta's split
 * forward (x·L)·R + b on the kernel layer against a dense Linear of the same shape.
 *
 * Part 1 runs both sides on the host in float64 with the same plain loops (dense = matmulRaw), so
 * the ratio isolates the contraction order and the multiply-add count (cost formula in
 * ttMatmulCost) from kernel quality. Part 2 uses the default backend (float32; ZOLO_BACKEND to
 * choose), the path every training step takes; dense there is `linear`, as zolo's Linear computes. Timing: one warm-up, then repeats for REPEAT_SECONDS (≥ 3, ≤ MAX_REPS); median
 * reported. Writes benchmarks/results/tt-matvec.json and tt-matvec.md; never fails for being slow.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';
import { createBackend, defaultBackendName } from '../../src/kernels/index.ts';
import { splitLinearForward } from '../../src/nn/adapters/ttAdapter.ts';
import * as F from '../../src/nn/functional.ts';
import { Engine, type Tensor } from '../../src/tensor/tensor.ts';
import {
  initTTLinear, matmulRaw, normalSampler, product, randomTTMatrix, relativeDifference, transpose64, ttLinearLayout, ttLinearParamCount,
  ttMatmulCost, ttMatrixParamCount, ttMatrixTimesBatch, ttMatrixToDense, type TTLinearSpec,
} from '../../src/tensortrain/index.ts';

const REPEAT_SECONDS = 0.6;
const MAX_REPS = 200;
const BATCH = 32;
const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');

function timeMedian(work: () => void): { ms: number; reps: number } {
  work();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < REPEAT_SECONDS * 1000 && times.length < MAX_REPS)) {
    const t0 = performance.now();
    work();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, reps: times.length };
}

// ------------------------------------------------------------------ part 1: TT-matrix × batch (f64)

const MATRIX_CASES: { rowModes: number[]; colModes: number[] }[] = [
  { rowModes: [4, 4, 4, 4], colModes: [4, 4, 4, 4] }, // 256 × 256
  { rowModes: [4, 8, 8, 4], colModes: [4, 8, 8, 4] }, // 1024 × 1024
  { rowModes: [8, 8, 8, 8], colModes: [4, 4, 8, 8] }, // 4096 × 1024
];
const RANKS = [2, 4, 8, 16];

interface MatrixRow {
  rows: number;
  cols: number;
  rowModes: number[];
  colModes: number[];
  rank: number;
  batch: number;
  ttParams: number;
  denseParams: number;
  order: string;
  ttMadds: number;
  denseMadds: number;
  ttMs: number;
  denseMs: number;
  /** dense time ÷ TT time (> 1: TT faster) */
  speedup: number;
  /** dense multiply-adds ÷ TT multiply-adds */
  maddRatio: number;
  relativeError: number;
}

const matrixRows: MatrixRow[] = [];
for (const { rowModes, colModes } of MATRIX_CASES) {
  const rows = product(rowModes);
  const cols = product(colModes);
  const normal = normalSampler(seedrandom(`bench-tt:${rows}x${cols}`));
  const x = { rows: BATCH, cols, data: Float64Array.from({ length: BATCH * cols }, () => normal()) };
  for (const rank of RANKS) {
    const w = randomTTMatrix(rowModes, colModes, rank, seedrandom(`bench-tt:${rows}x${cols}:${rank}`));
    const dense = ttMatrixToDense(w);
    const denseT = transpose64(dense); // [N, M] so Y = X·Wᵀ is one row-major product
    let y = ttMatrixTimesBatch(w, x);
    const tt = timeMedian(() => {
      y = ttMatrixTimesBatch(w, x);
    });
    let yDense = matmulRaw(x.data, denseT.data, BATCH, cols, rows);
    const denseTime = timeMedian(() => {
      yDense = matmulRaw(x.data, denseT.data, BATCH, cols, rows);
    });
    const cost = ttMatmulCost(w, BATCH);
    const ttMadds = Math.min(cost.rightToLeft, cost.leftToRight);
    matrixRows.push({
      rows, cols, rowModes, colModes, rank, batch: BATCH,
      ttParams: ttMatrixParamCount(w), denseParams: rows * cols,
      order: cost.order, ttMadds, denseMadds: cost.dense,
      ttMs: tt.ms, denseMs: denseTime.ms, speedup: denseTime.ms / tt.ms, maddRatio: cost.dense / ttMadds,
      relativeError: relativeDifference(y.data, yDense),
    });
    console.log(`TT-matrix ${rows}×${cols} r=${rank}: TT ${tt.ms.toFixed(3)} ms, dense ${denseTime.ms.toFixed(3)} ms, dense/TT ${(denseTime.ms / tt.ms).toFixed(2)}× (madds ratio ${(cost.dense / ttMadds).toFixed(1)})`);
  }
}

// ------------------------------------------------------------------ part 2: split forward on the kernel layer (f32)

const SPLIT_CASES: { label: string; spec: TTLinearSpec; rows: number }[] = [
  { label: 'zolo tiny Dn 128→16', spec: { inFeatures: 128, outFeatures: 16, inModes: [8, 16], outModes: [4, 4], rank: 5 }, rows: 16 * 64 },
  { label: 'zolo tiny U 16→128', spec: { inFeatures: 16, outFeatures: 128, inModes: [4, 4], outModes: [16, 8], rank: 5 }, rows: 16 * 64 },
  { label: 'RoBERTa Dn 1024→64', spec: { inFeatures: 1024, outFeatures: 64, inModes: [8, 8, 16], outModes: [8, 8], rank: 5 }, rows: 16 * 128 },
  { label: 'square 1024→1024 r 5', spec: { inFeatures: 1024, outFeatures: 1024, inModes: [32, 32], outModes: [32, 32], rank: 5 }, rows: 16 * 128 },
];

interface SplitRow {
  label: string;
  inFeatures: number;
  outFeatures: number;
  rank: number;
  rows: number;
  ttParams: number;
  denseParams: number;
  splitMs: number;
  denseMs: number;
  /** dense time ÷ split time */
  speedup: number;
  relativeError: number;
}

const backendName = defaultBackendName();
const engine = new Engine(await createBackend(backendName));
const splitRows: SplitRow[] = [];
for (const { label, spec, rows } of SPLIT_CASES) {
  const layout = ttLinearLayout(spec, label);
  const init = initTTLinear(layout, seedrandom(`bench-split:${label}`));
  const cores = init.cores.cores.map((core) => engine.fromArray(Float32Array.from(core.data), core.shape, 'adapter'));
  const bias = engine.fromArray(Float32Array.from(init.bias), [spec.outFeatures], 'adapter');
  // the same W densely, stored [out, in] as Linear does
  const full = init.cores.cores.length;
  const weight = engine.scope(() => {
    const eye = engine.fromArray(identity(spec.inFeatures), [spec.inFeatures, spec.inFeatures], 'workspace');
    const w = splitLinearForward(eye, cores, engine.zeros([spec.outFeatures], 'workspace'), spec.inModes.length); // [in, out] = W
    return F.permute(w, [1, 0]);
  });
  const normal = normalSampler(seedrandom(`bench-split-x:${label}`));
  const x = engine.fromArray(Float32Array.from({ length: rows * spec.inFeatures }, () => normal()), [rows, spec.inFeatures], 'activation');
  const run = (f: () => Tensor) => () => {
    const out = engine.scope(f);
    out.readSync();
    (out.base ?? out).dispose();
  };
  const split = timeMedian(run(() => splitLinearForward(x, cores, bias, spec.inModes.length)));
  const dense = timeMedian(run(() => F.linear(x, weight, bias)));
  const a = engine.scope(() => splitLinearForward(x, cores, bias, spec.inModes.length));
  const b = engine.scope(() => F.linear(x, weight, bias));
  const error = relativeDifference(Float64Array.from(a.readSync()), Float64Array.from(b.readSync()));
  (a.base ?? a).dispose();
  (b.base ?? b).dispose();
  splitRows.push({
    label, inFeatures: spec.inFeatures, outFeatures: spec.outFeatures, rank: spec.rank, rows,
    ttParams: ttLinearParamCount(layout), denseParams: spec.inFeatures * spec.outFeatures,
    splitMs: split.ms, denseMs: dense.ms, speedup: dense.ms / split.ms, relativeError: error,
  });
  console.log(`split ${label} (${full} cores, ${rows} rows): split ${split.ms.toFixed(3)} ms, dense ${dense.ms.toFixed(3)} ms, dense/split ${(dense.ms / split.ms).toFixed(2)}×`);
}

function identity(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

// ------------------------------------------------------------------ write results

mkdirSync(resultsDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, backend: backendName, batch: BATCH, repeatSeconds: REPEAT_SECONDS };
writeFileSync(join(resultsDir, 'tt-matvec.json'), `${JSON.stringify({ meta, ttMatrix: matrixRows, split: splitRows }, null, 1)}\n`);

const fmt = (v: number, digits = 3) => v.toFixed(digits);
const md = [
  '# TT-matrix × batch vs dense, and AdaZeta\'s split forward',
  '',
  `Command: \`npm run bench:tt\` (benchmarks/tt/run.ts). ${meta.date}, Node ${meta.node}; median of ≥ 3 runs over ${REPEAT_SECONDS} s.`,
  '',
  `## TT-matrix × batch (B = ${BATCH}), host float64, same loop style on both sides`,
  '',
  'TT: core-by-core contraction in the cheaper sweep order (cost Σ_k B·(untouched modes)·m_k n_k r_{k−1} r_k, `ttMatmulCost`); dense: X·Wᵀ with W formed.',
  '',
  '| M × N | modes (rows ‖ cols) | rank | TT params | dense params | order | TT madds | dense madds | madds ratio | TT ms | dense ms | dense ÷ TT | rel. error |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...matrixRows.map((r) =>
    `| ${r.rows} × ${r.cols} | ${r.rowModes.join('·')} ‖ ${r.colModes.join('·')} | ${r.rank} | ${r.ttParams} | ${r.denseParams} | ${r.order} | ${r.ttMadds} | ${r.denseMadds} | ${fmt(r.maddRatio, 1)} | ${fmt(r.ttMs)} | ${fmt(r.denseMs)} | ${fmt(r.speedup, 2)} | ${r.relativeError.toExponential(1)} |`),
  '',
  `## AdaZeta split forward (x·L)·R + b vs dense Linear, ${backendName} backend (float32)`,
  '',
  'Split: build L [in, r] and R [r, out] from the cores (matmuls), then two thin matmuls — what every adapter call does. Dense: `linear` with the same W formed once.',
  '',
  '| layer | rows | TT params | dense params | split ms | dense ms | dense ÷ split | rel. error |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...splitRows.map((r) => `| ${r.label} | ${r.rows} | ${r.ttParams} | ${r.denseParams} | ${fmt(r.splitMs)} | ${fmt(r.denseMs)} | ${fmt(r.speedup, 2)} | ${r.relativeError.toExponential(1)} |`),
  '',
];
writeFileSync(join(resultsDir, 'tt-matvec.md'), md.join('\n'));
console.log(`wrote ${join(resultsDir, 'tt-matvec.json')} and tt-matvec.md`);
engine.backend.dispose();

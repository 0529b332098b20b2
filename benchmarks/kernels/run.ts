/**
 * `npm run bench:kernels`: square matmul GFLOP/s (2n³ flops per product) at 64…1024 and
 * perturbation throughput (GB/s, counting the 8 bytes of f32 read + write per element) for every
 * registered backend and every gpu.js mode this machine has, with PyTorch's matmul measured in the
 * same run (the Python that imports torch, see ../pytorch.ts; same thread count). Writes benchmarks/results/kernels.json and
 * kernels.md and prints the table. Never fails for being slow; a missing torch is recorded.
 *
 * Timing: one warm-up call (compiles gpu.js kernels), then repeats until REPEAT_SECONDS have passed
 * (at least one, at most MAX_REPS); the median is reported. Every timed call ends with `await
 * read()` so asynchronous backends are timed to completion.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/kernels/backend.ts';
import { createBackend, defaultBackendName, registeredBackends } from '../../src/kernels/index.ts';
import { GPU_MODES, isModeAvailable } from '../../src/kernels/gpu/modes.ts';
import { torchPython } from '../pytorch.ts';

const SIZES = [64, 128, 256, 512, 1024];
const REPEAT_SECONDS = 1.0;
const MAX_REPS = 50;
const PERTURB_ELEMENTS = 1 << 22; // 16 MiB of f32
const THREADS = cpus().length;
const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');

interface Subject {
  label: string;
  backend: Backend;
}

async function subjects(): Promise<Subject[]> {
  const list: Subject[] = [];
  for (const name of registeredBackends()) {
    if (name === 'gpu') continue;
    list.push({ label: name, backend: await createBackend(name, { threads: THREADS }) });
  }
  if (registeredBackends().includes('gpu')) {
    for (const mode of GPU_MODES) {
      if (!(await isModeAvailable(mode))) continue;
      const backend = await createBackend('gpu', { mode, threads: THREADS });
      if ((backend as unknown as { fallbackReason: string | null }).fallbackReason) {
        backend.dispose();
        continue;
      }
      list.push({ label: `gpu[${mode}]`, backend });
    }
  }
  return list;
}

async function timeMedian(work: () => Promise<void>): Promise<{ ms: number; reps: number }> {
  await work();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 1 || (performance.now() - start < REPEAT_SECONDS * 1000 && times.length < MAX_REPS)) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, reps: times.length };
}

function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let state = seed;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

async function benchMatmul(backend: Backend, n: number): Promise<{ ms: number; gflops: number; reps: number }> {
  const a = backend.upload(randomArray(n * n, 1));
  const b = backend.upload(randomArray(n * n, 2));
  const c = backend.alloc(n * n);
  const { ms, reps } = await timeMedian(async () => {
    backend.matmul(a, b, c, { batch: 1, m: n, n, k: n });
    await backend.read(c);
  });
  for (const buffer of [a, b, c]) backend.free(buffer);
  return { ms, gflops: (2 * n ** 3) / (ms * 1e6), reps };
}

async function benchPerturb(backend: Backend): Promise<{ ms: number; gbPerS: number; reps: number }> {
  const param = backend.upload(randomArray(PERTURB_ELEMENTS, 3));
  let seed = 1;
  const { ms, reps } = await timeMedian(async () => {
    backend.perturbInPlace(param, seed++, 7, 1e-3);
    await backend.read(param);
  });
  backend.free(param);
  return { ms, gbPerS: (8 * PERTURB_ELEMENTS) / (ms * 1e6), reps };
}

const PAIRED_N = 512;
const PAIRS = 7;

/**
 * Speed-up over cpu at 512³ from interleaved runs: cpu and the subject alternate, and the median
 * of the per-pair time ratios is reported. On a shared machine whose load drifts, this is steadier
 * than the ratio of two medians taken seconds apart.
 */
async function pairedSpeedups(list: Subject[]): Promise<Record<string, number>> {
  const cpu = list.find((s) => s.label === 'cpu');
  if (!cpu) return {};
  const out: Record<string, number> = {};
  const timeOne = async (backend: Backend, a: ReturnType<Backend['upload']>, b: ReturnType<Backend['upload']>, c: ReturnType<Backend['alloc']>): Promise<number> => {
    const t0 = performance.now();
    backend.matmul(a, b, c, { batch: 1, m: PAIRED_N, n: PAIRED_N, k: PAIRED_N });
    await backend.read(c);
    return performance.now() - t0;
  };
  const operands = (backend: Backend) => [backend.upload(randomArray(PAIRED_N ** 2, 1)), backend.upload(randomArray(PAIRED_N ** 2, 2)), backend.alloc(PAIRED_N ** 2)] as const;
  const [ca, cb, cc] = operands(cpu.backend);
  for (const subject of list) {
    if (subject === cpu) continue;
    const [sa, sb, sc] = operands(subject.backend);
    await timeOne(subject.backend, sa, sb, sc);
    const ratios: number[] = [];
    for (let i = 0; i < PAIRS; i++) ratios.push((await timeOne(cpu.backend, ca, cb, cc)) / (await timeOne(subject.backend, sa, sb, sc)));
    ratios.sort((x, y) => x - y);
    out[subject.label] = ratios[Math.floor(PAIRS / 2)]!;
    console.error(`${subject.label} paired speed-up over cpu at ${PAIRED_N}³: ${fmt(out[subject.label])}×`);
  }
  return out;
}

interface TorchResult {
  available: boolean;
  note?: string;
  version?: string;
  threads?: number;
  results?: { n: number; ms: number; gflops: number; reps: number }[];
}

function benchTorch(): TorchResult {
  const torch = torchPython();
  if (!torch.available) return { available: false, note: torch.note };
  const output = execFileSync(torch.python, [join(here, 'torch_matmul.py'), String(THREADS), ...SIZES.map(String)], { encoding: 'utf8' });
  return { available: true, ...(JSON.parse(output) as Omit<TorchResult, 'available'>) };
}

const fmt = (value: number | undefined, digits = 2): string => (value === undefined ? '—' : value.toFixed(digits));

async function main(): Promise<void> {
  const list = await subjects();
  const rows: { label: string; mode: string; matmul: Record<number, { ms: number; gflops: number; reps: number }>; perturb: { ms: number; gbPerS: number; reps: number } }[] = [];
  for (const { label, backend } of list) {
    const matmul: Record<number, { ms: number; gflops: number; reps: number }> = {};
    for (const n of SIZES) {
      matmul[n] = await benchMatmul(backend, n);
      console.error(`${label} matmul ${n}: ${fmt(matmul[n]!.gflops)} GFLOP/s (${matmul[n]!.reps} reps)`);
    }
    const perturb = await benchPerturb(backend);
    console.error(`${label} perturb: ${fmt(perturb.gbPerS)} GB/s`);
    rows.push({ label, mode: backend.mode, matmul, perturb });
  }
  const paired = await pairedSpeedups(list);
  for (const { backend } of list) backend.dispose();
  const torch = benchTorch();
  const cpuRow = rows.find((row) => row.label === 'cpu');
  const speedups = Object.fromEntries(rows.map((row) => [row.label, Object.fromEntries(SIZES.map((n) => [n, cpuRow ? row.matmul[n]!.gflops / cpuRow.matmul[n]!.gflops : null]))]));

  const header = `| backend | mode | ${SIZES.map((n) => `${n}³`).join(' | ')} | ×cpu at 512³ | ×cpu at 512³, paired | perturb GB/s |`;
  const lines = [
    `Matmul GFLOP/s (square, f32, median of repeats) and perturbation throughput, measured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}.`,
    '',
    header,
    `|${' --- |'.repeat(SIZES.length + 5)}`,
    ...rows.map((row) => `| ${row.label} | ${row.mode} | ${SIZES.map((n) => fmt(row.matmul[n]!.gflops)).join(' | ')} | ${fmt(speedups[row.label]![512] ?? undefined)} | ${row.label === 'cpu' ? '1.00' : fmt(paired[row.label])} | ${fmt(row.perturb.gbPerS, 3)} |`),
  ];
  if (torch.available && torch.results) {
    const torch512 = torch.results.find((r) => r.n === 512)!.gflops;
    lines.push(`| torch ${torch.version} | ${torch.threads} threads | ${SIZES.map((n) => fmt(torch.results!.find((r) => r.n === n)?.gflops)).join(' | ')} | ${cpuRow ? fmt(torch512 / cpuRow.matmul[512]!.gflops) : '—'} | — | — |`);
  } else {
    lines.push(`| torch | ${torch.note} | ${SIZES.map(() => '—').join(' | ')} | — | — | — |`);
  }
  lines.push('', `Default backend: ${defaultBackendName()}. gpu rows are the gpu backend forced into each available gpu.js mode (ZOLO_GPU_MODE / BackendOptions.mode). Perturbation: θ ← θ + 1e-3·z over ${PERTURB_ELEMENTS} f32 (8 bytes moved per element). "paired": median of ${PAIRS} interleaved cpu/backend time ratios at ${PAIRED_N}³ (steadier on a shared machine).`);
  const markdown = lines.join('\n');

  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'kernels.json'), `${JSON.stringify({
    measuredAt: new Date().toISOString(), node: process.version, cores: cpus().length, cpuModel: cpus()[0]?.model,
    defaultBackend: defaultBackendName(), sizes: SIZES, perturbElements: PERTURB_ELEMENTS, backends: rows, speedupOverCpu: speedups, pairedSpeedupOverCpu512: paired, torch,
  }, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'kernels.md'), `${markdown}\n`);
  console.log(markdown);
}

await main();

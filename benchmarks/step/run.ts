/**
 * `npm run bench:step`: the speed of what a ZO ablation repeats thousands of times, zolo next to
 * PyTorch in one invocation. For each preset (tiny, small; encoder classifier, batch 16):
 * - zolo forward (model.loss: logits + mean CE, no tape) and one MeZO step (createEstimator('mezo'):
 *   perturb +ε, forward, −2ε, forward, restore fused with the update), timed interleaved in rounds;
 * - PyTorch: ../shared/peers/torch_peer.py --preset P under $ZOLO_TORCH_PYTHON or python3 (../pytorch.ts; same shapes, threads);
 * - ratios: zolo forward ÷ torch forward (target ≤ 1.15), zolo MeZO ÷ torch MeZO (≤ 0.85),
 *   zolo MeZO ÷ zolo forward (≤ 2.2; median of per-round ratios, the stable figure on a shared box);
 * - matmul GFLOP/s at every shape the forward issues, as a fraction of the wasm peak probe
 *   (benchmarks/peak-flops.ts) on the same threads;
 * - a per-op profile of the forward (benchmarks/step/profile.ts);
 * - the MemoryLedger's peak during a MeZO step ÷ its peak during a forward (must stay ≤ 1.1);
 * - tiny's matmul shapes also on the cpu and gpu.js (webasm) backends, for the design record.
 * Writes benchmarks/results/step-<preset>.json and step.md. Never fails for being slow.
 *
 *   npm run bench:step -- [--presets tiny,small] [--threads N] [--rounds R] [--backend wasm] [--no-torch]
 *   npm run bench:step -- --render     (rewrite step.md from the step-*.json files)
 *   npm run bench:step -- --threads 1 --presets tiny --suffix -1thread   (side run: step-tiny-1thread.json, step-1thread.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, MatmulSpec } from '../../src/kernels/backend.ts';
import { createBackend, registeredBackends } from '../../src/kernels/index.ts';
import { WasmBackend } from '../../src/kernels/wasm/index.ts';
import { createModel } from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/index.ts';
import { createEstimator } from '../../src/zo/index.ts';
import { measurePeak, type PeakFlops } from '../peak-flops.ts';
import { TORCH_PEER, torchPython } from '../pytorch.ts';
import { matmulLabel, profile } from './profile.ts';
import { BATCH, EPS, LR, makeBatch } from './setup.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');
/** The speed targets (forward and MeZO step against PyTorch's in the same run; MeZO step in forwards). */
const TARGETS = { forward_over_torch: 1.15, mezo_over_torch_mezo: 0.85, mezo_over_forward: 2.2 };
/** zolo/PyTorch alternations per preset. */
const BLOCKS = 3;

interface Args {
  presets: string[];
  threads: number;
  rounds: number;
  backend: string;
  torch: boolean;
  /** appended to the result file names (e.g. '-1thread'), so side runs do not replace the main one. */
  suffix: string;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    presets: (value('--presets') ?? 'tiny,small').split(','),
    threads: Number(value('--threads') ?? availableParallelism()),
    rounds: Number(value('--rounds') ?? 30),
    backend: value('--backend') ?? 'wasm',
    torch: !argv.includes('--no-torch'),
    suffix: value('--suffix') ?? '',
  };
}

interface Summary {
  median: number;
  min: number;
  p25: number;
  p75: number;
  n: number;
}

function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  return { median: round(at(0.5)), min: round(sorted[0]!), p25: round(at(0.25)), p75: round(at(0.75)), n: sorted.length };
}

function runTorch(preset: string, threads: number, rounds: number): Record<string, unknown> {
  const torch = torchPython();
  if (!torch.available) return { status: 'not installed' };
  const result = spawnSync(torch.python, [
    TORCH_PEER, '--preset', preset, '--threads', String(threads), '--no-rss', '--steps', String(rounds), '--warmup', '3', '--svd-reps', '2',
  ], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) {
    const reason = /No module named ['"]?torch/.test(result.stderr ?? '') ? 'not installed' : `failed: ${(result.stderr ?? result.error?.message ?? '').trim().split('\n').pop()}`;
    return { status: reason };
  }
  return { status: 'ok', ...JSON.parse(result.stdout) as Record<string, unknown> };
}

/** Median ms of `reps` calls of a synchronous matmul on `backend` (after one warm-up). */
async function timeMatmul(backend: Backend, spec: MatmulSpec, reps: number): Promise<number> {
  const aSize = spec.batch * spec.m * spec.k;
  const bSize = (spec.bBatchStride === 0 ? 1 : spec.batch) * spec.k * spec.n;
  const a = backend.upload(Float32Array.from({ length: aSize }, (_, i) => ((i * 37) % 101) / 101 - 0.5));
  const b = backend.upload(Float32Array.from({ length: bSize }, (_, i) => ((i * 53) % 97) / 97 - 0.5));
  const out = backend.alloc(spec.batch * spec.m * spec.n);
  backend.matmul(a, b, out, spec);
  await backend.read(out);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    backend.matmul(a, b, out, spec);
    await backend.read(out);
    times.push(performance.now() - start);
  }
  for (const x of [a, b, out]) backend.free(x);
  return summarize(times).median;
}

/** Medians of the per-block torch medians (forward, MeZO step); the first run's metadata. */
function mergeTorch(runs: Record<string, unknown>[]): Record<string, unknown> {
  const ok = runs.filter((r) => r.status === 'ok');
  if (ok.length === 0) return runs[0] ?? { status: 'not run' };
  const field = (name: string): Summary => summarize(ok.map((r) => (r[name] as Summary).median));
  return {
    ...ok[0], forward_ms: field('forward_ms'), mezo_step_ms: field('mezo_step_ms'),
    blocks: ok.map((r) => ({ forward_ms: r.forward_ms, mezo_step_ms: r.mezo_step_ms })),
    note: `forward_ms/mezo_step_ms: median (and spread) of ${ok.length} runs' medians, each run interleaved with zolo's rounds`,
  };
}

/**
 * The machine's SIMD ceiling for N threads: the single-thread probe × N. The N-thread probe is
 * reported too, but on a shared machine it measures the other tenants as much as the cores.
 */
function nominalPeak(peak: PeakFlops): number {
  return peak.singleThread * peak.threads;
}

const flopsOf = (spec: MatmulSpec): number => 2 * spec.batch * spec.m * spec.n * spec.k;

async function benchPreset(preset: string, args: Args, peak: PeakFlops | undefined, others: Backend[]): Promise<Record<string, unknown>> {
  const loadBefore = loadavg()[0]!;
  const backend = await createBackend(args.backend, { threads: args.threads });
  const engine = new Engine(backend);
  const model = createModel(engine, { kind: 'encoder-classifier', preset, classes: 2, seed: 0 });
  const batch = makeBatch(model.config.vocab, model.config.seq);
  const estimator = createEstimator('mezo', { eps: EPS, lr: LR });
  let state = estimator.init(model.params, { seed: 0 });
  const loss = (): Promise<number> => model.loss(batch);
  const step = async (): Promise<void> => {
    state = (await estimator.step(state, { loss })).state;
  };
  // LOZO (r 2, ν 50: run_lozo.py defaults) on the same model, timed in the same rounds
  const lozo = createEstimator('lozo', { eps: EPS, lr: LR });
  let lozoState = lozo.init(model.params, { seed: 1 });
  const lozoStep = async (): Promise<void> => {
    lozoState = (await lozo.step(lozoState, { loss })).state;
  };
  for (let i = 0; i < 3; i++) {
    await loss();
    await step();
    await lozoStep();
  }

  // peak ledger bytes: inference vs one MeZO step
  engine.ledger.resetPeaks();
  await loss();
  const inferencePeak = engine.ledger.peakBytes();
  engine.ledger.resetPeaks();
  await step();
  const mezoPeak = engine.ledger.peakBytes();
  engine.ledger.resetPeaks();
  await lozoStep();
  const lozoPeak = engine.ledger.peakBytes();

  // zolo rounds and PyTorch runs alternate in BLOCKS, so both see the same phases of a shared machine
  const forwardMs: number[] = [];
  const stepMs: number[] = [];
  const lozoMs: number[] = [];
  const torchRuns: Record<string, unknown>[] = [];
  const perBlock = Math.max(3, Math.ceil(args.rounds / BLOCKS));
  for (let block = 0; block < BLOCKS; block++) {
    if (args.torch) torchRuns.push(runTorch(preset, args.threads, perBlock));
    for (let r = 0; r < perBlock; r++) {
      let start = performance.now();
      await loss();
      forwardMs.push(performance.now() - start);
      start = performance.now();
      await step();
      stepMs.push(performance.now() - start);
      start = performance.now();
      await lozoStep();
      lozoMs.push(performance.now() - start);
    }
  }
  const paired = stepMs.map((s, i) => s / forwardMs[i]!);
  const lozoPaired = lozoMs.map((s, i) => s / forwardMs[i]!);

  // per-op profile of the forward, averaged over a few passes
  const profiler = profile(backend);
  const passes = 5;
  for (let i = 0; i < passes; i++) await loss();
  profiler.restore();
  const ops = profiler.stats();
  const opTotal = ops.reduce((s, o) => s + o.ms, 0);
  const opProfile = ops.map((o) => ({
    op: o.op, callsPerForward: o.calls / passes, msPerForward: round3(o.ms / passes), share: round3(o.ms / opTotal),
  }));

  // matmul at the model's shapes
  const shapes = profiler.matmulShapes().map((s) => ({ ...s, calls: s.calls / passes }));
  const matmuls = [];
  for (const { spec, calls } of shapes) {
    const ms = await timeMatmul(backend, spec, 15);
    const gflops = flopsOf(spec) / ms / 1e6;
    const row: Record<string, unknown> = {
      shape: matmulLabel(spec), callsPerForward: calls, ms: round3(ms), gflops: round3(gflops),
      fractionOfPeak: peak ? round3(gflops / nominalPeak(peak)) : null,
    };
    // the slow backends only at tiny's shapes (seconds per product at small's)
    for (const other of preset === 'tiny' ? others : []) {
      const otherMs = await timeMatmul(other, spec, flopsOf(spec) > 5e7 ? 2 : 5);
      row[`${other.name === 'gpu' ? `gpu (${other.mode})` : other.name}_gflops`] = round3(flopsOf(spec) / otherMs / 1e6);
    }
    matmuls.push(row);
  }
  const mode = backend.mode;
  backend.dispose();

  const torch = args.torch ? mergeTorch(torchRuns) : { status: 'skipped (--no-torch)' };
  const zolo = {
    backend: args.backend, mode, threads: args.threads, params: model.params.count(),
    forward_ms: summarize(forwardMs), mezo_step_ms: summarize(stepMs), mezo_over_forward_paired_median: round3(summarize(paired).median),
    ledger_peak_bytes: { inference: inferencePeak, mezo_step: mezoPeak, ratio: round3(mezoPeak / inferencePeak) },
    lozo: {
      settings: 'rank 2, ν 50', step_ms: summarize(lozoMs), over_forward_paired_median: round3(summarize(lozoPaired).median),
      ledger_peak_bytes: lozoPeak, peak_over_inference: round3(lozoPeak / inferencePeak),
    },
  };
  const torchForward = (torch as { forward_ms?: Summary }).forward_ms?.median;
  const torchStep = (torch as { mezo_step_ms?: Summary }).mezo_step_ms?.median;
  const torchForwardMin = (torch as { forward_ms?: Summary }).forward_ms?.min;
  const torchStepMin = (torch as { mezo_step_ms?: Summary }).mezo_step_ms?.min;
  const ratios = {
    forward_over_torch: torchForward ? round3(zolo.forward_ms.median / torchForward) : null,
    mezo_over_torch_mezo: torchStep ? round3(zolo.mezo_step_ms.median / torchStep) : null,
    mezo_over_forward: zolo.mezo_over_forward_paired_median,
    // the same from the fastest rounds (torch: fastest run median): less sensitive to other tenants
    best_forward_over_torch: torchForwardMin ? round3(zolo.forward_ms.min / torchForwardMin) : null,
    best_mezo_over_torch_mezo: torchStepMin ? round3(zolo.mezo_step_ms.min / torchStepMin) : null,
    targets: TARGETS,
  };
  return {
    preset, batch: BATCH, config: model.config, date: new Date().toISOString(),
    // 1-minute load average before and after: other work on the machine distorts both columns
    load_average: [round3(loadBefore), round3(loadavg()[0]!)], zolo, torch, ratios,
    peak_gflops: peak ?? null, matmuls, profile: opProfile,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function markdown(results: Record<string, unknown>[], peak: PeakFlops | undefined): string {
  const lines = ['# Step benchmark: zolo vs PyTorch (`npm run bench:step`)', ''];
  lines.push('Encoder classifier, batch 16, one fixed batch; forward = logits + mean CE without tape; MeZO step = perturb +ε, forward, −2ε, forward, restore+update (ε 1e-3, lr 1e-6).');
  lines.push('zolo and PyTorch measured in the same invocation, same thread count. Times are medians (ms).');
  if (peak) {
    lines.push('', `wasm SIMD peak probe: ${peak.singleThread.toFixed(1)} GFLOP/s on 1 thread, ${peak.allThreads.toFixed(1)} GFLOP/s measured on ${peak.threads} threads; `
      + `"fraction of peak" below is relative to ${nominalPeak(peak).toFixed(1)} GFLOP/s (1-thread probe × ${peak.threads}).`);
  }
  lines.push('', `| preset | threads | zolo forward | torch forward | forward ÷ torch (≤ ${TARGETS.forward_over_torch}) | zolo MeZO | torch MeZO | MeZO ÷ torch MeZO (≤ ${TARGETS.mezo_over_torch_mezo}) | MeZO ÷ forward (≤ ${TARGETS.mezo_over_forward}) | ledger peak MeZO ÷ inference |`);
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const z = r.zolo as { threads: number; forward_ms: Summary; mezo_step_ms: Summary; ledger_peak_bytes: { ratio: number } };
    const t = r.torch as { status: string; forward_ms?: Summary; mezo_step_ms?: Summary };
    const q = r.ratios as { forward_over_torch: number | null; mezo_over_torch_mezo: number | null; mezo_over_forward: number };
    const torchCell = (s?: Summary): string => (t.status === 'ok' && s ? s.median.toFixed(1) : t.status);
    const ratio = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
    lines.push(`| ${String(r.preset)} | ${z.threads} | ${z.forward_ms.median.toFixed(1)} | ${torchCell(t.forward_ms)} | ${ratio(q.forward_over_torch)} | ${z.mezo_step_ms.median.toFixed(1)} | ${torchCell(t.mezo_step_ms)} | ${ratio(q.mezo_over_torch_mezo)} | ${q.mezo_over_forward.toFixed(2)} | ${z.ledger_peak_bytes.ratio.toFixed(3)} |`);
  }
  lines.push('', 'LOZO (rank 2, ν 50) timed in the same rounds on the same model (no PyTorch peer for it):', '');
  lines.push('| preset | zolo LOZO step | LOZO ÷ forward (≤ 2.2) | ledger peak LOZO ÷ inference |', '| --- | --- | --- | --- |');
  for (const r of results) {
    const l = (r.zolo as { lozo: { step_ms: Summary; over_forward_paired_median: number; peak_over_inference: number } }).lozo;
    lines.push(`| ${String(r.preset)} | ${l.step_ms.median.toFixed(1)} | ${l.over_forward_paired_median.toFixed(2)} | ${l.peak_over_inference.toFixed(3)} |`);
  }
  lines.push('', 'Fastest rounds (zolo minimum; PyTorch: fastest of its runs\' medians), for a machine shared with other work:', '');
  lines.push('| preset | zolo forward min | torch forward | ratio | zolo MeZO min | torch MeZO | ratio |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const z = r.zolo as { forward_ms: Summary; mezo_step_ms: Summary };
    const t = r.torch as { status: string; forward_ms?: Summary; mezo_step_ms?: Summary };
    const q = r.ratios as { best_forward_over_torch: number | null; best_mezo_over_torch_mezo: number | null };
    const cell = (s?: Summary): string => (t.status === 'ok' && s ? s.min.toFixed(1) : t.status);
    const ratio = (x: number | null): string => (x === null ? '—' : x.toFixed(2));
    lines.push(`| ${String(r.preset)} | ${z.forward_ms.min.toFixed(1)} | ${cell(t.forward_ms)} | ${ratio(q.best_forward_over_torch)} | ${z.mezo_step_ms.min.toFixed(1)} | ${cell(t.mezo_step_ms)} | ${ratio(q.best_mezo_over_torch_mezo)} |`);
  }
  const loads = results.filter((r) => Array.isArray(r.load_average)).map((r) => `${String(r.preset)} ${(r.load_average as number[]).join(' → ')}`);
  if (loads.length > 0) lines.push('', `1-minute load average during the run (${results[0] ? (results[0].zolo as { threads: number }).threads : '?'} threads asked for; anything above that is other work): ${loads.join(', ')}.`);
  for (const r of results) {
    const matmuls = r.matmuls as Record<string, unknown>[];
    const otherKeys = Object.keys(matmuls[0] ?? {}).filter((k) => k.endsWith('_gflops'));
    lines.push('', `## ${String(r.preset)}: matmul at the model's shapes`, '');
    const extra = (cells: string[]): string => cells.map((c) => ` ${c} |`).join('');
    lines.push(`| shape (batch×[m×k]·[k×n], trans A/B) | calls/forward | ms | GFLOP/s | fraction of peak |${extra(otherKeys.map((k) => k.replace('_gflops', ' GFLOP/s')))}`);
    lines.push(`| --- | --- | --- | --- | --- |${extra(otherKeys.map(() => '---'))}`);
    for (const m of matmuls) {
      lines.push(`| ${String(m.shape)} | ${String(m.callsPerForward)} | ${String(m.ms)} | ${String(m.gflops)} | ${String(m.fractionOfPeak)} |${extra(otherKeys.map((k) => String(m[k])))}`);
    }
    lines.push('', `## ${String(r.preset)}: where the forward's time goes (per-op profile)`, '');
    lines.push('| op | calls/forward | ms/forward | share |', '| --- | --- | --- | --- |');
    for (const p of (r.profile as { op: string; callsPerForward: number; msPerForward: number; share: number }[]).slice(0, 16)) {
      lines.push(`| ${p.op} | ${p.callsPerForward} | ${p.msPerForward} | ${(p.share * 100).toFixed(1)}% |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.argv.includes('--render')) {
    // rewrite step.md from the committed JSON (after a change to the table layout)
    const results = args.presets.map((p) => JSON.parse(readFileSync(join(resultsDir, `step-${p}${args.suffix}.json`), 'utf8')) as Record<string, unknown>);
    writeFileSync(join(resultsDir, `step${args.suffix}.md`), markdown(results, (results[0]?.peak_gflops as PeakFlops | null) ?? undefined));
    return;
  }
  let peak: PeakFlops | undefined;
  if (args.backend === 'wasm') {
    const probe = await WasmBackend.create({ threads: args.threads });
    peak = measurePeak(probe);
    probe.dispose();
    console.log(`peak: ${peak.singleThread.toFixed(1)} GFLOP/s (1 thread), ${peak.allThreads.toFixed(1)} GFLOP/s (${peak.threads} threads)`);
  }
  const others: Backend[] = [];
  if (args.backend !== 'cpu') others.push(await createBackend('cpu'));
  if (registeredBackends().includes('gpu')) {
    try {
      others.push(await createBackend('gpu', { mode: 'webasm', threads: args.threads }));
    } catch (error) {
      console.log(`gpu.js webasm mode unavailable: ${(error as Error).message}`);
    }
  }
  mkdirSync(resultsDir, { recursive: true });
  const results = [];
  for (const preset of args.presets) {
    const result = await benchPreset(preset, args, peak, others);
    writeFileSync(join(resultsDir, `step-${preset}${args.suffix}.json`), `${JSON.stringify(result, null, 1)}\n`);
    const z = result.zolo as { forward_ms: Summary; mezo_step_ms: Summary };
    console.log(`${preset}: forward ${z.forward_ms.median} ms, MeZO step ${z.mezo_step_ms.median} ms, ratios ${JSON.stringify(result.ratios)}`);
    results.push(result);
  }
  for (const other of others) other.dispose();
  const md = markdown(results, peak);
  writeFileSync(join(resultsDir, `step${args.suffix}.md`), md);
  console.log(md);
}

await main();

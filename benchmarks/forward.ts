/**
 * `npm run bench:forward`: the tiny (or --preset small) encoder classifier, batch 16 of random ids
 * (torch_peer.py's setup), on every registered backend:
 *   forward_ms   inference loss (forward + cross-entropy read to the host), the ZO loss closure
 *   backprop_ms  valueAndGrad (forward under the tape + backward) + one AdamW step
 *   peak bytes   ledger peak total and by category for each
 * next to PyTorch's forward_ms / adamw_step_ms from torch_peer.py (../shared/peers, run by the Python of ./pytorch.ts) on the same preset,
 * measured in the same run (skipped and recorded when torch is missing). Medians after one warm-up,
 * repeated until TIME_BUDGET_MS per measurement (at least MIN_REPS). Writes
 * benchmarks/results/forward.json and forward.md (forward-small.* for --preset small). Never fails for being slow.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend, registeredBackends } from '../src/kernels/index.ts';
import '../src/galore/builtins.ts';
import { TORCH_ADAMW_DEFAULTS } from '../src/galore/defaults.ts';
import { createOptimizer } from '../src/galore/registry.ts';
import { EncoderClassifier, Tape, disposeGrads, presetConfig, release, valueAndGrad } from '../src/nn/index.ts';
import { Engine } from '../src/tensor/tensor.ts';
import { TORCH_PEER, torchPython } from './pytorch.ts';

const BATCH = 16;
const CLASSES = 2;
const TIME_BUDGET_MS = 8000;
const MIN_REPS = 5;
const here = dirname(fileURLToPath(import.meta.url));
function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const preset = flag('--preset') ?? 'tiny';
/** e.g. `--backends wasm,gpu` (default: every registered backend). */
const backendNames = flag('--backends')?.split(',') ?? registeredBackends();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(work: () => Promise<void>): Promise<{ median: number; min: number; n: number }> {
  await work();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < MIN_REPS || performance.now() - start < TIME_BUDGET_MS) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
    if (times.length >= 200) break;
  }
  return { median: +median(times).toFixed(3), min: +Math.min(...times).toFixed(3), n: times.length };
}

function torchPeer(): Record<string, unknown> {
  const torch = torchPython();
  if (!torch.available) return { error: torch.note };
  try {
    const out = execFileSync(torch.python, [TORCH_PEER, '--preset', preset, '--no-rss', '--steps', '20', '--warmup', '3'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000,
    });
    const result = JSON.parse(out);
    return {
      torch: result.torch, threads: result.threads, params: result.params, forward_ms: result.forward_ms, adamw_step_ms: result.adamw_step_ms,
      // its GaLore-AdamW step (rank 8, every 2-D weight), beside bench:profile's galore-adamw phase
      galore_step_ms: result.galore_step_ms,
      activations_saved_bytes: result.memory_bytes?.adamw?.activations_saved,
    };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}

const config = { ...presetConfig(preset), classes: CLASSES };
const ids = Int32Array.from({ length: BATCH * config.seq }, (_, i) => (i * 2654435761) % config.vocab);
const batch = { ids, batch: BATCH, seq: config.seq, labels: Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES) };

const rows: Record<string, unknown>[] = [];
for (const name of backendNames) {
  const backend = await createBackend(name);
  const engine = new Engine(backend);
  const model = new EncoderClassifier(engine, config, 0);
  engine.ledger.resetPeaks();
  const forward = await timed(async () => {
    await model.loss(batch);
  });
  const inferencePeak = engine.ledger.snapshot().peak;
  // torch.optim.AdamW's defaults, as the PyTorch peer's step
  const adamw = createOptimizer('adamw', model.params, { ...TORCH_ADAMW_DEFAULTS });
  engine.ledger.resetPeaks();
  const backprop = await timed(async () => {
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
    await adamw.step(grads);
    disposeGrads(grads);
  });
  const backpropPeak = engine.ledger.snapshot().peak;
  const tape = new Tape(model.params);
  release(tape.run(() => model.lossTensor(batch)));
  const savedBytes = tape.savedBytes();
  tape.dispose();
  rows.push({ backend: name, mode: backend.mode, params: model.params.count(), forward_ms: forward, backprop_step_ms: backprop, inference_peak_bytes: inferencePeak, backprop_peak_bytes: backpropPeak, activations_saved_bytes: savedBytes });
  console.log(`${name} (${backend.mode}): forward ${forward.median} ms, backprop+AdamW ${backprop.median} ms, peak ${inferencePeak.total} vs ${backpropPeak.total} bytes`);
  adamw.dispose();
  backend.dispose();
}

const torch = torchPeer();
const torchForward = (torch.forward_ms as { median?: number } | undefined)?.median;
const torchAdamw = (torch.adamw_step_ms as { median?: number } | undefined)?.median;
for (const row of rows) {
  if (torchForward) row.forward_over_torch = +((row.forward_ms as { median: number }).median / torchForward).toFixed(2);
  if (torchAdamw) row.backprop_over_torch = +((row.backprop_step_ms as { median: number }).median / torchAdamw).toFixed(2);
}
// the 1-minute load average: other processes on the 2 cores inflate every figure of the run alike
const result = { preset, batch: BATCH, seq: config.seq, vocab: config.vocab, classes: CLASSES, date: new Date().toISOString(), loadAverage1m: +loadavg()[0]!.toFixed(2), zolo: rows, pytorch: torch };
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `forward${preset === 'tiny' ? '' : `-${preset}`}.json`), `${JSON.stringify(result, null, 1)}\n`);

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(2);
const lines = [
  `# Forward and backprop step, ${preset} encoder classifier, batch ${BATCH} × seq ${config.seq} (${result.date}, load average ${result.loadAverage1m})`,
  '',
  '| backend | forward ms (median) | × torch | backprop + AdamW ms | × torch | peak MiB inference | peak MiB backprop step | saved activations MiB |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((row) => {
    const f = row.forward_ms as { median: number };
    const b = row.backprop_step_ms as { median: number };
    const pi = row.inference_peak_bytes as { total: number };
    const pb = row.backprop_peak_bytes as { total: number };
    return `| ${row.backend} (${row.mode}) | ${f.median} | ${row.forward_over_torch ?? '–'} | ${b.median} | ${row.backprop_over_torch ?? '–'} | ${mb(pi.total)} | ${mb(pb.total)} | ${mb(row.activations_saved_bytes as number)} |`;
  }),
  torchForward
    ? `| PyTorch ${torch.torch} (${torch.threads} threads) | ${torchForward} | 1 | ${torchAdamw} | 1 | | | ${torch.activations_saved_bytes ? mb(torch.activations_saved_bytes as number) : '–'} |`
    : `| PyTorch | not measured: ${torch.error} | | | | | | |`,
  '',
  'forward = loss of one batch read to the host (torch: logits + CE under no_grad); backprop = forward under the',
  'tape + backward + AdamW step (torch: forward + backward + AdamW.step). Peaks from the MemoryLedger (weights',
  'included; backprop adds gradients, AdamW states and saved activations); saved activations = what the tape keeps for',
  'backward (torch: bytes autograd saves, torch_peer.py). Figures are inflated alike by the load average in the title.',
  'Command: `npm run bench:forward` (`-- --preset small --backends wasm` to choose the preset and backends).',
];
writeFileSync(join(here, 'results', `forward${preset === 'tiny' ? '' : `-${preset}`}.md`), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));

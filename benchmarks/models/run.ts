/**
 * `npm run bench:models`: a 100M-class model on this CPU, zolo beside PyTorch in one invocation.
 * GaLore's LLaMA-130M shape (shape.ts: 134,105,856 parameters, random init), batch B × 256 tokens:
 * one forward, one MeZO step, one AdamW step and one GaLore step, each method in a fresh process
 * for zolo (probe.ts) and for PyTorch (torch_llama.py with ../shared/peers/torch_peer.py's MeZO and
 * GaLore, run by $ZOLO_TORCH_PYTHON or a python3 that imports torch; "not installed" otherwise),
 * zolo and PyTorch alternating method by method so both see the same phases of a shared machine.
 *
 * Reports medians of the timed repetitions, MemoryLedger peaks by category (zolo) and peak RSS
 * (both), and the ratios the design is judged by, measured in this run:
 *   MeZO peak ÷ inference peak     ≤ 1.1 (ledger and RSS)
 *   MeZO step ÷ forward            ≤ 2.3 (median of the per-repetition ratios to the forward timed beside it)
 *   zolo forward ÷ PyTorch forward ≤ 1.5 (medians of every forward each side timed: the forward
 *                                  probe's and those between MeZO steps, two windows of the run)
 * Writes benchmarks/results/models/results.json and README.md. Never fails for being slow.
 *
 *   npm run bench:models -- [--batch 2] [--reps 3] [--threads N] [--no-torch]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TORCH_PEER, torchPython } from '../pytorch.ts';
import { type BenchMethod, LLAMA_130M, METHODS, type ProbeResult, STEP_SETTINGS } from './shape.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results', 'models');

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const batch = Number(flag('--batch') ?? 2);
/** timed repetitions per method, after one warm-up */
const reps = Number(flag('--reps') ?? 3);
const threads = Number(flag('--threads') ?? availableParallelism());
const withTorch = !process.argv.includes('--no-torch');

type Outcome = { status: 'ok'; result: ProbeResult } | { status: string };

function lastLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n').pop() ?? '';
}

function parseOutcome(run: ReturnType<typeof spawnSync>, what: string): Outcome {
  if (run.status !== 0) return { status: `failed: ${lastLine(run.stderr?.toString()) || run.error?.message || what}` };
  return { status: 'ok', result: JSON.parse(lastLine(run.stdout?.toString())) as ProbeResult };
}

function zoloProbe(method: BenchMethod): Outcome {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, 'probe.ts'), method, String(batch), String(reps), String(threads)], {
    encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseOutcome(run, `zolo ${method}`);
}

function torchProbe(method: BenchMethod): Outcome {
  const torch = torchPython();
  if (!torch.available) return { status: torch.note };
  const run = spawnSync(torch.python, [
    join(here, 'torch_llama.py'), '--peers', dirname(TORCH_PEER), '--config', JSON.stringify(LLAMA_130M), '--settings', JSON.stringify(STEP_SETTINGS),
    '--method', method, '--batch', String(batch), '--reps', String(reps), '--threads', String(threads),
  ], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
  return parseOutcome(run, `torch ${method}`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const loadAtStart = loadavg();
const started = performance.now();
const zolo = new Map<BenchMethod, Outcome>();
const torch = new Map<BenchMethod, Outcome>();
const probeSeconds: Record<string, { zolo: number; torch: number | null }> = {};
for (const method of METHODS) {
  let t0 = performance.now();
  zolo.set(method, zoloProbe(method));
  const zoloSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  if (withTorch) torch.set(method, torchProbe(method));
  probeSeconds[method] = { zolo: zoloSeconds, torch: withTorch ? (performance.now() - t0) / 1000 : null };
  console.log(`${method}: zolo ${zolo.get(method)!.status} (${zoloSeconds.toFixed(0)} s), torch ${torch.get(method)?.status ?? 'skipped'} (${(probeSeconds[method]!.torch ?? 0).toFixed(0)} s)`);
}
const loadAtEnd = loadavg();

const ok = (outcomes: Map<BenchMethod, Outcome>, method: BenchMethod): ProbeResult | null => {
  const outcome = outcomes.get(method);
  return outcome && outcome.status === 'ok' ? (outcome as { result: ProbeResult }).result : null;
};
const medianMs = (outcomes: Map<BenchMethod, Outcome>, method: BenchMethod): number | null => {
  const result = ok(outcomes, method);
  return result ? median(result.ms) : null;
};
/** median over repetitions of (MeZO step ÷ the forward timed just before it) */
const pairedMezo = (outcomes: Map<BenchMethod, Outcome>): number | null => {
  const result = ok(outcomes, 'mezo');
  return result?.forwardMs ? median(result.ms.map((ms, i) => ms / result.forwardMs![i]!)) : null;
};
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a != null && b != null && b > 0 ? a / b : null);
/** median of every forward a side timed: the forward probe's repetitions and the forwards between MeZO steps */
const allForwards = (outcomes: Map<BenchMethod, Outcome>): number | null => {
  const times = [...(ok(outcomes, 'forward')?.ms ?? []), ...(ok(outcomes, 'mezo')?.forwardMs ?? [])];
  return times.length > 0 ? median(times) : null;
};
const rssPeak = (outcomes: Map<BenchMethod, Outcome>, method: BenchMethod): number | null => ok(outcomes, method)?.rss.peakKb ?? null;
const ledgerTotal = (method: BenchMethod): number | null => ok(zolo, method)?.ledgerPeak?.total ?? null;

const ratios = {
  zoloMezoOverForward: pairedMezo(zolo),
  torchMezoOverForward: pairedMezo(torch),
  zoloMezoLedgerPeakOverInference: ratio(ledgerTotal('mezo'), ledgerTotal('forward')),
  zoloMezoRssPeakOverInference: ratio(rssPeak(zolo, 'mezo'), rssPeak(zolo, 'forward')),
  torchMezoRssPeakOverInference: ratio(rssPeak(torch, 'mezo'), rssPeak(torch, 'forward')),
  zoloForwardOverTorch: ratio(allForwards(zolo), allForwards(torch)),
  zoloForwardProbeOverTorch: ratio(medianMs(zolo, 'forward'), medianMs(torch, 'forward')),
  zoloMezoOverTorch: ratio(medianMs(zolo, 'mezo'), medianMs(torch, 'mezo')),
  zoloAdamwOverTorch: ratio(medianMs(zolo, 'adamw'), medianMs(torch, 'adamw')),
  zoloGaloreOverTorch: ratio(medianMs(zolo, 'galore'), medianMs(torch, 'galore')),
};
const targets = { zoloMezoOverForward: 2.3, zoloMezoLedgerPeakOverInference: 1.1, zoloMezoRssPeakOverInference: 1.1, zoloForwardOverTorch: 1.5 };
const firstOk = [...zolo.values(), ...torch.values()].find((o) => o.status === 'ok') as { result: ProbeResult } | undefined;
const torchRuntime = [...torch.values()].find((o) => o.status === 'ok') as { result: ProbeResult } | undefined;
const torchVersion = withTorch
  ? torchRuntime
    ? `PyTorch ${String(torchRuntime.result.runtime.torch)} (${String(torchRuntime.result.runtime.blas)}, ${String(torchRuntime.result.runtime.threads)} threads)`
    : `PyTorch ${torch.get(METHODS[0])?.status ?? 'not run'}`
  : 'PyTorch skipped (--no-torch)';
const busiestLoad = Math.max(loadAtStart[0]!, loadAtEnd[0]!);
const loadNote = busiestLoad > cpus().length
  ? 'the machine was shared with other jobs (more runnable threads than cores), so absolute times are inflated and noisy; compare the ratios, measured in the same run, where both sides share the load'
  : 'the machine was about as busy as its core count allows for this run alone';

const results = {
  date: new Date().toISOString(),
  command: ['npm run bench:models', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverage: { start: loadAtStart, end: loadAtEnd }, wallSeconds: (performance.now() - started) / 1000, probeSeconds },
  model: { name: 'llama-130m (GaLore configs/llama_130m.json), random init', config: LLAMA_130M, parameters: firstOk?.result.parameters ?? null },
  batch: { sequences: batch, seq: LLAMA_130M.seq, tokens: batch * LLAMA_130M.seq },
  settings: STEP_SETTINGS,
  reps,
  threads,
  ratios,
  targets,
  zolo: Object.fromEntries(zolo),
  torch: withTorch ? Object.fromEntries(torch) : 'skipped (--no-torch)',
};
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const seconds = (ms: number | null): string => (ms == null ? '—' : (ms / 1000).toFixed(2));
const gib = (bytes: number | null | undefined): string => (bytes == null ? '—' : (bytes / 2 ** 30).toFixed(2));
const x = (value: number | null, target?: number): string => (value == null ? '—' : `${value.toFixed(2)}${target ? (value <= target ? ` (≤ ${target} ✓)` : ` (target ≤ ${target} ✗)`) : ''}`);
const status = (outcomes: Map<BenchMethod, Outcome>, method: BenchMethod): string | null => (ok(outcomes, method) ? null : outcomes.get(method)?.status ?? 'not run');
const cell = (outcomes: Map<BenchMethod, Outcome>, method: BenchMethod, value: string): string => status(outcomes, method) ?? value;
const categories = ['weights', 'gradient', 'optimizerState', 'activation', 'workspace', 'total'];

const md = [
  '# A 100M-class model on this CPU (`npm run bench:models`)',
  '',
  `${results.date}: ${results.model.name}, ${results.model.parameters?.toLocaleString('en-US') ?? '?'} parameters (d 768, 12 layers, 12 heads, SwiGLU 2048, vocab 32000, untied head), ` +
    `batch ${batch} × ${LLAMA_130M.seq} tokens of fixed random ids, float32, ${threads} threads, ${results.machine.cpus} × ${results.machine.model}. ` +
    `Each method runs in a fresh process (zolo: wasm backend, Node ${process.version}; ${torchVersion}: its own LLaMA module, torch_peer.py's MeZO and GaLore), one warm-up then ${reps} timed repetitions; medians.`,
  '',
  `**Machine load:** the 1-minute load average was ${loadAtStart[0]!.toFixed(1)} at the start and ${loadAtEnd[0]!.toFixed(1)} at the end on ${results.machine.cpus} cores: ` +
    `${loadNote}. Wall time ${(results.machine.wallSeconds / 60).toFixed(1)} min.`,
  '',
  '| ratio (this run) | value |',
  '| --- | --- |',
  `| zolo MeZO step ÷ forward (paired) | ${x(ratios.zoloMezoOverForward, targets.zoloMezoOverForward)} |`,
  `| zolo MeZO ledger peak ÷ inference ledger peak | ${x(ratios.zoloMezoLedgerPeakOverInference, targets.zoloMezoLedgerPeakOverInference)} |`,
  `| zolo MeZO peak RSS ÷ inference peak RSS | ${x(ratios.zoloMezoRssPeakOverInference, targets.zoloMezoRssPeakOverInference)} |`,
  `| zolo forward ÷ PyTorch forward (every forward each side timed) | ${x(ratios.zoloForwardOverTorch, targets.zoloForwardOverTorch)} |`,
  `| zolo forward ÷ PyTorch forward (the forward probes' medians only) | ${x(ratios.zoloForwardProbeOverTorch)} |`,
  `| PyTorch MeZO step ÷ forward (paired) | ${x(ratios.torchMezoOverForward)} |`,
  `| PyTorch MeZO peak RSS ÷ inference peak RSS | ${x(ratios.torchMezoRssPeakOverInference)} |`,
  `| zolo ÷ PyTorch: MeZO step, AdamW step, GaLore step | ${x(ratios.zoloMezoOverTorch)}, ${x(ratios.zoloAdamwOverTorch)}, ${x(ratios.zoloGaloreOverTorch)} |`,
  '',
  '| method | zolo s | PyTorch s | zolo peak RSS GiB | PyTorch peak RSS GiB | zolo first step s | PyTorch first step s |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...METHODS.map((method) => {
    const z = ok(zolo, method);
    const t = ok(torch, method);
    return `| ${method} | ${cell(zolo, method, seconds(medianMs(zolo, method)))} | ${withTorch ? cell(torch, method, seconds(medianMs(torch, method))) : 'skipped'} | ` +
      `${gib(z ? z.rss.peakKb * 1024 : null)} | ${gib(t ? t.rss.peakKb * 1024 : null)} | ${seconds(z?.firstMs ?? null)} | ${seconds(t?.firstMs ?? null)} |`;
  }),
  '',
  'zolo MemoryLedger peaks by category (GiB), over the warm-up and the repetitions:',
  '',
  `| method | ${categories.join(' | ')} |`,
  `| --- | ${categories.map(() => '---').join(' | ')} |`,
  ...METHODS.map((method) => `| ${method} | ${categories.map((c) => cell(zolo, method, gib(ok(zolo, method)?.ledgerPeak?.[c] ?? 0))).join(' | ')} |`),
  '',
  'What each figure is: forward = logits + mean cross-entropy without a tape (the ZO loss closure); MeZO = perturb +ε, forward, −2ε, forward, restore fused with the update ' +
    '(zolo regenerates counter-based noise three times per step, PyTorch four); AdamW and GaLore = forward under the tape/autograd + backward + optimizer step; ' +
    'GaLore r 256, T 200, α 0.25 on the attention and MLP weights, the projector refreshed in the warm-up ("first step": zolo by its randomized range finder without power iterations — products with the gradient on the backend, orthogonalizations and the small SVD on the host —, PyTorch by exact SVD), so the timed steps are steady state. ' +
    'RSS includes the runtime (Node + wasm heap; Python + torch). The MeZO ÷ forward ratio falls as the batch grows: the noise passes cost per parameter, the forward per token.',
  '',
  `Reproduce: \`ZOLO_TORCH_PYTHON=/path/to/python ${results.command}\`.`,
  '',
];
writeFileSync(join(resultsDir, 'README.md'), md.join('\n'));
console.log(md.join('\n'));

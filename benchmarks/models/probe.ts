/**
 * One method of `npm run bench:models` in a fresh process, so its RSS high-water mark is its own:
 *   tsx benchmarks/models/probe.ts <forward|mezo|adamw|galore> <batch> <reps> <threads>
 * Builds the random LLaMA-130M of shape.ts on the wasm backend (matrices and embeddings N(0, 0.02²)
 * drawn by the backend's counter-based generator, norm weights 1: the seeded host initialisation
 * of src/nn/architectures/init.ts takes minutes at 134 M parameters, and a timing does not depend on
 * the values), runs one warm-up and `reps` timed repetitions, and prints a ProbeResult as JSON:
 *   forward  model.loss (logits + mean cross-entropy, no tape): the ZO loss closure
 *   mezo     createEstimator('mezo') steps (perturb +ε, forward, −2ε, forward, restore fused with the
 *            update), each after a forward timed beside it (paired ratios)
 *   adamw    valueAndGrad (forward under the tape + backward) + createOptimizer('adamw') step
 *   galore   the same with 'galore-adamw' (r 256, T 200, α 0.25), the projector refreshed in the
 *            warm-up step only, so the timed steps are steady state. The refresh runs on the host in
 *            float64 (src/galore/svd.ts); at this size the default randomized range finder (q = 2
 *            power iterations) takes about 15 min on a loaded 2-core machine, so the bench uses q = 0
 *            (one pass, Halko et al. 2011 Alg. 4.1) — the bases' accuracy does not change a step's cost
 * RSS comes from /proc/self/status (VmRSS after the build; VmHWM after clear_refs resets it, as
 * ../shared/peers/torch_peer.py does); the ledger peak covers the warm-up and the repetitions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import '../../src/galore/builtins.ts';
import { createOptimizer } from '../../src/galore/registry.ts';
import { createBackend } from '../../src/kernels/index.ts';
import { noiseKey, registerNoisePurpose } from '../../src/kernels/noiseStreams.ts';
import { ARCHITECTURES, type DecoderLm } from '../../src/nn/architectures/index.ts';
import { disposeGrads, type LanguageModelBatch, nextTokenTargets, valueAndGrad } from '../../src/nn/index.ts';
import { Engine, MemoryLedger, ops } from '../../src/tensor/index.ts';
import { createEstimator } from '../../src/zo/index.ts';
import { type BenchMethod, LLAMA_130M, METHODS, type ProbeResult, STEP_SETTINGS } from './shape.ts';

function statusKb(key: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where that is not allowed. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Token ids from a fixed LCG (the same stream torch_llama.py draws), next-token targets. */
function makeBatch(batch: number, seq: number, vocab: number): LanguageModelBatch {
  let state = 12345;
  const ids = Int32Array.from({ length: batch * seq }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % vocab;
  });
  const tokens = { ids, batch, seq };
  return { ...tokens, targets: nextTokenTargets(tokens) };
}

const INIT_NOISE = registerNoisePurpose('bench-models-init');

function randomModel(engine: Engine): DecoderLm {
  const architecture = ARCHITECTURES[LLAMA_130M.family];
  const values = new Map(architecture.parameters(LLAMA_130M).map((spec) => {
    const size = spec.shape.reduce((n, axis) => n * axis, 1);
    return [spec.name, new Float32Array(size).fill(spec.group === 'norm' ? 1 : 0)] as const;
  }));
  const model = architecture.create(engine, LLAMA_130M, values);
  model.params.all().forEach((param, index) => {
    if (param.group !== 'norm') ops.perturbInPlace(param.tensor, noiseKey(0, index, INIT_NOISE), LLAMA_130M.initStd);
  });
  return model;
}

const [method, batchArg, repsArg, threadsArg] = process.argv.slice(2);
if (!(METHODS as readonly string[]).includes(method ?? '')) throw new Error(`method must be one of ${METHODS.join(', ')}, got ${method}`);
const reps = Number(repsArg);
const engine = new Engine(await createBackend('wasm', { threads: Number(threadsArg) }), new MemoryLedger());
const model = randomModel(engine);
// the host copies of the initial values are garbage now; collect them so the RSS baseline is the model's
(globalThis as { gc?: () => void }).gc?.();
const batch = makeBatch(Number(batchArg), LLAMA_130M.seq, LLAMA_130M.vocab);
const forward = async (): Promise<void> => {
  await model.loss(batch);
};

let step: () => Promise<void>;
if (method === 'forward') {
  step = forward;
} else if (method === 'mezo') {
  const estimator = createEstimator('mezo', { eps: STEP_SETTINGS.eps, lr: STEP_SETTINGS.mezoLr });
  let state = estimator.init(model.params, { seed: 0 });
  step = async () => {
    state = (await estimator.step(state, { loss: () => model.loss(batch) })).state;
  };
} else {
  const optimizer = createOptimizer(method === 'adamw' ? 'adamw' : 'galore-adamw', model.params, {
    lr: STEP_SETTINGS.adamLr, weightDecay: STEP_SETTINGS.weightDecay,
    galore: { rank: STEP_SETTINGS.galoreRank, updateGap: STEP_SETTINGS.galoreGap, scale: STEP_SETTINGS.galoreScale, svd: 'randomized', powerIterations: 0 },
  });
  step = async () => {
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
    await optimizer.step(grads);
    disposeGrads(grads);
  };
}

const baselineKb = statusKb('VmRSS');
const peakReset = resetPeakRss();
engine.ledger.resetPeaks();
const paired = method === 'mezo';
const timed = async (work: () => Promise<void>): Promise<number> => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};
if (paired) await forward();
const firstMs = await timed(step);
const ms: number[] = [];
const forwardMs: number[] = [];
for (let r = 0; r < reps; r++) {
  if (paired) forwardMs.push(await timed(forward));
  ms.push(await timed(step));
}
const result: ProbeResult = {
  method: method as BenchMethod,
  ms,
  ...(paired ? { forwardMs } : {}),
  firstMs,
  rss: { baselineKb, peakKb: peakReset ? statusKb('VmHWM') : Number.NaN },
  ledgerPeak: { ...engine.ledger.snapshot().peak },
  parameters: model.params.count(),
  runtime: { node: process.version, backend: engine.backend.mode, peakRssReset: peakReset },
};
console.log(JSON.stringify(result));
engine.backend.dispose();

/**
 * The model `npm run bench:models` measures: GaLore's LLaMA-130M (configs/llama_130m.json of the
 * GaLore repository, galore.md §4.2: d 768, 12 layers, 12 heads, SwiGLU 2048, vocab 32000, untied
 * lm_head, RMSNorm ε 1e-6, rotary θ 10⁴), random-initialised, 134,105,856 parameters; and the step
 * settings both sides use. torch_llama.py builds the same shape from the JSON the runner passes it.
 */
import type { DecoderConfig } from '../../src/nn/architectures/index.ts';

export const LLAMA_130M: DecoderConfig = {
  family: 'llama', vocab: 32000, dModel: 768, layers: 12, heads: 12, kvHeads: 12, headDim: 64, dFf: 2048, seq: 256,
  layerNormEps: 1e-6, initStd: 0.02, tiedEmbeddings: false, ropeTheta: 10000, qkvBias: false, outputBias: false, mlpBias: false,
};

/** Per-step settings shared by zolo and PyTorch. */
export const STEP_SETTINGS = {
  /** MeZO: the paper's ε and a small lr (arXiv 2305.17333 App. E; the step's cost does not depend on them) */
  eps: 1e-3,
  mezoLr: 1e-6,
  adamLr: 1e-4,
  weightDecay: 0.01,
  /** GaLore's 130M pretraining recipe: r 256, T 200, α 0.25 (arXiv 2403.03507 Table 2 / App. C) */
  galoreRank: 256,
  galoreGap: 200,
  galoreScale: 0.25,
} as const;

export const METHODS = ['forward', 'mezo', 'adamw', 'galore'] as const;
export type BenchMethod = (typeof METHODS)[number];

/** One process's measurement of one method (both sides print this shape as JSON). */
export interface ProbeResult {
  method: BenchMethod;
  /** ms per repetition after the warm-up */
  ms: number[];
  /** mezo: the forward passes timed between its steps (paired ratios) */
  forwardMs?: number[];
  /** ms of the first (warm-up) repetition: GaLore's includes the projector refresh */
  firstMs: number;
  /** RSS in KiB: after building the model, and the high-water mark over the warm-up and repetitions */
  rss: { baselineKb: number; peakKb: number };
  /** zolo only: MemoryLedger peak bytes by category over the same repetitions */
  ledgerPeak?: Record<string, number>;
  parameters: number;
  runtime: Record<string, unknown>;
}

/**
 * Analytic memory of the backprop methods (galore.md §4.1 formulas, §6.13 byte rules): weights,
 * adapter weights, gradients and optimizer state for an architecture and a method, computed from
 * shapes alone. For zolo's models it reproduces the ledger byte for byte (test/galore/memory.test.ts);
 * for the paper's LLaMA sizes it gives the numbers docs/galore.md puts next to the paper's.
 *
 * Counting rules (per parameter, element counts × bytes; each update rule states its own, `stateSize`):
 *   AdamW            2·numel  (8-bit: 2·numel + 8·⌈numel/2048⌉ bytes, 32-bit below 4096 elements)
 *   Adafactor        2-D: rows + cols; 1-D: numel; + numel first moment with β1 (AdaLomo: never)
 *   GaLore target    the rule's state of the projected shape b×k (or k×k for 'full') + basis a·k ((m+n)·k for 'full'), k = min(r, m, n)
 *   LoRA             adapter A, B of F's layout (its fused-qkv 0/1 mask counts as weights); the rule on adapters only
 *   gradients        every trainable parameter; per-layer (and a fused-backward rule, AdaLomo): the gradients in flight (see perLayerGradientBytes)
 * Activations depend on batch and sequence and are not estimated here; the ledger measures them.
 */
import { ConfigError, assertOneOf } from '../errors.ts';
import { type TransformerConfig, presetConfig } from '../nn/config.ts';
import { ARCHITECTURES, type DecoderConfig, DECODER_PRESET_NAMES, decoderPresetConfig, isDecoderPreset } from '../nn/architectures/index.ts';
import { targetsLinear } from '../nn/adapters/attach.ts';
import { LORA_DEFAULTS } from '../nn/adapters/lora.ts';
import type { ParamGroup } from '../tensor/params.ts';
import { defaultGaLoreRank, GALORE_DEFAULTS } from './defaults.ts';
import { LORA_BASELINE_TARGETS } from './lora.ts';
import { chooseSide, type ProjectionType, projectedShape } from './projector.ts';
import { backpropOptimizer, backpropOptimizerNames, type OptimizerOptions, ruleOptions } from './registry.ts';

export interface ParamShape {
  name: string;
  group: ParamGroup;
  shape: readonly number[];
}

/** A Linear module: its weight [out, in] and optional bias, by parameter name. */
export interface LinearShape {
  name: string;
  weight: string;
  bias: string | null;
  out: number;
  in: number;
  group: ParamGroup;
}

export interface Architecture {
  name: string;
  params: ParamShape[];
  linears: LinearShape[];
  /** the output head reuses the token embedding (zolo's causal LM), so its gradient lives through backward. */
  tiedEmbedding: string | null;
}

/** Every backprop optimizer of the registry (read now), plus 'mezo': the weights alone, no gradient, no state. */
export function memoryMethodNames(): string[] {
  return [...backpropOptimizerNames(), 'mezo'];
}

export interface MemoryOptions {
  /** GaLore rank r; unset = a quarter of each projected matrix's smaller side (defaultGaLoreRank). */
  rank?: number;
  projectionType?: ProjectionType;
  /** GaLore's per-layer updates (gradients in flight only); always for a fused-backward rule. */
  perLayer?: boolean;
  /** bytes per weight / gradient / 32-bit-state element: 4 for zolo (fp32), 2 for the paper's BF16. */
  elementBytes?: number;
  /** the rule's own options, as a run config's `options` (e.g. { adafactor: { beta1: 0.9 } }, the paper's Fig. 3 setting). */
  optimizerOptions?: OptimizerOptions;
  loraRank?: number;
  loraTargets?: readonly string[];
}

export interface MemoryEstimate {
  architecture: string;
  method: string;
  parameters: number;
  trainable: number;
  bytes: { weights: number; adapter: number; gradient: number; optimizerState: number; total: number };
  /** optimizer-state elements split by kind (for the formula checks). */
  stateElements: { moments: number; projector: number; factored: number };
}

// ------------------------------------------------------------------ architectures

function linear(params: ParamShape[], linears: LinearShape[], name: string, group: ParamGroup, inF: number, outF: number, bias: boolean): void {
  params.push({ name: `${name}.weight`, group, shape: [outF, inF] });
  if (bias) params.push({ name: `${name}.bias`, group, shape: [outF] });
  linears.push({ name, weight: `${name}.weight`, bias: bias ? `${name}.bias` : null, out: outF, in: inF, group });
}

/** zolo's transformer (src/nn: learned positions, pre-LN blocks with fused qkv, GELU MLP, biases). */
export function zoloArchitecture(kind: 'causal-lm' | 'encoder-classifier', config: TransformerConfig, classes = 2): Architecture {
  const { vocab, dModel: d, dFf, seq, layers } = config;
  const params: ParamShape[] = [];
  const linears: LinearShape[] = [];
  params.push({ name: 'tok.weight', group: 'embedding', shape: [vocab, d] }, { name: 'pos.weight', group: 'embedding', shape: [seq, d] });
  for (let l = 0; l < layers; l++) {
    const b = `blocks.${l}`;
    params.push({ name: `${b}.ln1.weight`, group: 'norm', shape: [d] }, { name: `${b}.ln1.bias`, group: 'norm', shape: [d] });
    linear(params, linears, `${b}.attn.qkv`, 'attention', d, 3 * d, true);
    linear(params, linears, `${b}.attn.proj`, 'attention', d, d, true);
    params.push({ name: `${b}.ln2.weight`, group: 'norm', shape: [d] }, { name: `${b}.ln2.bias`, group: 'norm', shape: [d] });
    linear(params, linears, `${b}.mlp.fc1`, 'mlp', d, dFf, true);
    linear(params, linears, `${b}.mlp.fc2`, 'mlp', dFf, d, true);
  }
  params.push({ name: 'ln_f.weight', group: 'norm', shape: [d] }, { name: 'ln_f.bias', group: 'norm', shape: [d] });
  if (kind === 'encoder-classifier') linear(params, linears, 'head', 'head', d, classes, true);
  return { name: kind, params, linears, tiedEmbedding: kind === 'causal-lm' ? 'tok.weight' : null };
}

/** LLaMA shapes of the GaLore repo's configs (configs/llama_*.json): hidden, intermediate, layers; vocab 32000. */
export const LLAMA_SIZES = {
  'llama-60m': { hidden: 512, intermediate: 1376, layers: 8 },
  'llama-130m': { hidden: 768, intermediate: 2048, layers: 12 },
  'llama-350m': { hidden: 1024, intermediate: 2736, layers: 24 },
  'llama-1b': { hidden: 2048, intermediate: 5461, layers: 24 },
  'llama-7b': { hidden: 4096, intermediate: 11008, layers: 32 },
} as const;
export type LlamaSize = keyof typeof LLAMA_SIZES;
const LLAMA_VOCAB = 32000;

/** LLaMA: untied embedding and lm_head, q/k/v/o and gate/up/down without biases, RMSNorm weights. */
export function llamaArchitecture(size: LlamaSize): Architecture {
  const { hidden: d, intermediate: f, layers } = LLAMA_SIZES[size];
  const params: ParamShape[] = [{ name: 'embed_tokens.weight', group: 'embedding', shape: [LLAMA_VOCAB, d] }];
  const linears: LinearShape[] = [];
  for (let l = 0; l < layers; l++) {
    const b = `layers.${l}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) linear(params, linears, `${b}.self_attn.${p}`, 'attention', d, d, false);
    linear(params, linears, `${b}.mlp.gate_proj`, 'mlp', d, f, false);
    linear(params, linears, `${b}.mlp.up_proj`, 'mlp', d, f, false);
    linear(params, linears, `${b}.mlp.down_proj`, 'mlp', f, d, false);
    params.push({ name: `${b}.input_layernorm.weight`, group: 'norm', shape: [d] }, { name: `${b}.post_attention_layernorm.weight`, group: 'norm', shape: [d] });
  }
  params.push({ name: 'norm.weight', group: 'norm', shape: [d] });
  linear(params, linears, 'lm_head', 'head', d, LLAMA_VOCAB, false);
  return { name: size, params, linears, tiedEmbedding: null };
}

/**
 * A pretrained-decoder family's model (GPT-2, OPT, LLaMA, Qwen2; zolo's llama-tiny / llama-20m
 * presets or a Hugging Face config.json) with the parameters the family registers: every 2-D
 * attention, MLP or head weight is a Linear, its `.bias` beside it when the config has one.
 */
export function decoderArchitecture(config: DecoderConfig, name: string): Architecture {
  const family = ARCHITECTURES[config.family];
  const params: ParamShape[] = family.parameters(config).map(({ name: param, shape, group }) => ({ name: param, shape, group }));
  const names = new Set(params.map((p) => p.name));
  const linears: LinearShape[] = params
    .filter((p) => p.shape.length === 2 && p.name.endsWith('.weight') && (p.group === 'attention' || p.group === 'mlp' || p.group === 'head'))
    .map((p) => {
      const module = p.name.slice(0, -'.weight'.length);
      const bias = names.has(`${module}.bias`) ? `${module}.bias` : null;
      return { name: module, weight: p.name, bias, out: p.shape[0]!, in: p.shape[1]!, group: p.group };
    });
  return { name, params, linears, tiedEmbedding: config.tiedEmbeddings ? family.tokenEmbedding : null };
}

export const MODEL_NAMES = ['tiny', 'small', ...DECODER_PRESET_NAMES, ...Object.keys(LLAMA_SIZES)] as const;

/** 'tiny' | 'small' (zolo causal LM) | 'llama-tiny' | 'llama-20m' (zolo's LLaMA presets) | 'llama-60m' … 'llama-7b' (the paper's). */
export function architectureByName(name: string, kind: 'causal-lm' | 'encoder-classifier' = 'causal-lm'): Architecture {
  if (name in LLAMA_SIZES) return llamaArchitecture(name as LlamaSize);
  if (name === 'tiny' || name === 'small') return { ...zoloArchitecture(kind, presetConfig(name)), name: `${name} (${kind})` };
  if (isDecoderPreset(name)) return decoderArchitecture(decoderPresetConfig(name), name);
  throw new ConfigError(`model must be one of ${MODEL_NAMES.join(', ')} or a Hugging Face model folder, got ${JSON.stringify(name)}`);
}

// ------------------------------------------------------------------ estimate

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** LoRA adapter shapes as src/nn/adapters/lora.ts builds them (fused qkv: q and v parts stacked, plus its 0/1 placement mask). */
function loraElements(lin: LinearShape, rank: number): { trainable: number; constant: number } {
  if (lin.name.endsWith('qkv')) {
    const width = lin.out / 3;
    return { trainable: 2 * rank * lin.in + 2 * rank * width, constant: 2 * rank * 3 * width };
  }
  return { trainable: rank * lin.in + rank * lin.out, constant: 0 };
}

/** GaLore targets by the default rule (attention + MLP matrices; galore.md §2.8). */
function isGaLoreTarget(param: ParamShape): boolean {
  return param.shape.length === 2 && (param.group === 'attention' || param.group === 'mlp');
}

export function estimateMemory(architecture: Architecture, method: string, options: MemoryOptions = {}): MemoryEstimate {
  const chosen = assertOneOf('method', method, memoryMethodNames());
  const e = options.elementBytes ?? 4;
  const rank = options.rank ?? null;
  const type = options.projectionType ?? GALORE_DEFAULTS.projectionType;
  const entry = chosen === 'mezo' ? null : backpropOptimizer(chosen);
  const settings = entry ? ruleOptions(entry, options.optimizerOptions ?? {}) : {};
  const lowRankAdapters = entry?.adapters !== undefined;
  const parameters = architecture.params.reduce((n, p) => n + numel(p.shape), 0);
  const byName = new Map(architecture.params.map((p) => [p.name, p]));

  let adapterElements = 0;
  let adapterConstants = 0;
  const adapterTensors: number[][] = [];
  if (lowRankAdapters) {
    const targets = options.loraTargets ?? LORA_BASELINE_TARGETS;
    const loraRank = options.loraRank ?? LORA_DEFAULTS.rank;
    for (const lin of architecture.linears) {
      if (!targets.some((t) => targetsLinear(t, lin.name, lin.group))) continue;
      const { trainable, constant } = loraElements(lin, loraRank);
      adapterElements += trainable;
      adapterConstants += constant;
      const halves = lin.name.endsWith('qkv') ? [2 * loraRank * lin.in, 2 * loraRank * (lin.out / 3)] : [loraRank * lin.in, loraRank * lin.out];
      adapterTensors.push(...halves.map((size) => [size]));
    }
  }

  let moments = 0;
  let projector = 0;
  let factored = 0;
  let stateBytes = 0;
  const addState = (shape: readonly number[]): void => {
    const size = entry!.rule.stateSize(shape, e, settings);
    moments += size.moments;
    factored += size.factored;
    stateBytes += size.bytes;
  };
  if (entry && lowRankAdapters) {
    for (const shape of adapterTensors) addState(shape);
  } else if (entry) {
    for (const param of architecture.params) {
      let shape = param.shape;
      if (entry.galore && isGaLoreTarget(param)) {
        const [m, n] = param.shape as [number, number];
        const k = rank === null ? defaultGaLoreRank(m, n) : Math.min(rank, m, n);
        const side = chooseSide(type, m, n);
        shape = projectedShape(side, m, n, k);
        const basis = side === 'full' ? (m + n) * k : (side === 'left' ? m : n) * k;
        projector += basis;
        stateBytes += e * basis;
      }
      addState(shape);
    }
  }

  const trainable = lowRankAdapters ? adapterElements : parameters;
  let gradient = 0;
  if (!entry) gradient = 0;
  else if (lowRankAdapters) gradient = e * adapterElements;
  else if (options.perLayer || entry.rule.fusedBackward) gradient = perLayerGradientBytes(architecture, e, byName);
  else gradient = e * parameters;

  // F charges the fused-qkv LoRA placement mask (constant data) to 'weights'
  const weights = e * (parameters + adapterConstants);
  const adapter = e * adapterElements;
  return {
    architecture: architecture.name,
    method: chosen,
    parameters,
    trainable,
    bytes: { weights, adapter, gradient, optimizerState: stateBytes, total: weights + adapter + gradient + stateBytes },
    stateElements: { moments, projector, factored },
  };
}

/**
 * Gradients in flight under per-layer updates with zolo's tape: a Linear's backward returns dW and
 * db together; a tied embedding's gradient is live from the output head to the input gather, where
 * its second contribution (a full [vocab, d] scatter-add) arrives beside it before being summed.
 */
export function perLayerGradientBytes(architecture: Architecture, e: number, byName: Map<string, ParamShape>): number {
  const size = (name: string | null): number => (name ? numel(byName.get(name)!.shape) : 0);
  const largestLinear = Math.max(0, ...architecture.linears.map((l) => size(l.weight) + size(l.bias)));
  const largestParam = Math.max(...architecture.params.map((p) => numel(p.shape)));
  if (!architecture.tiedEmbedding) return e * Math.max(largestLinear, largestParam);
  const tied = size(architecture.tiedEmbedding);
  const others = architecture.params.filter((p) => p.name !== architecture.tiedEmbedding).map((p) => numel(p.shape));
  return e * (tied + Math.max(largestLinear, tied, ...others));
}

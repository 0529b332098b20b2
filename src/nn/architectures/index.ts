/** The pretrained decoder families by name (config.json's model_type). */
import type { DecoderFamily } from './config.ts';
import type { Architecture } from './decoderLm.ts';
import { gpt2 } from './gpt2.ts';
import { llama, qwen2 } from './llama.ts';
import { opt } from './opt.ts';

export const ARCHITECTURES: Readonly<Record<DecoderFamily, Architecture>> = { gpt2, opt, llama, qwen2 };

export * from './config.ts';
export { type Architecture, DecoderLm, type ParamSpec } from './decoderLm.ts';
export { Gpt2 } from './gpt2.ts';
export { Llama } from './llama.ts';
export { Opt } from './opt.ts';
export * from './presets.ts';
export { randomDecoderValues } from './init.ts';

/** Adapters: AdaZeta's tensor-train adapters, LoRA, attachAdapters (freeze base, train adapters) and merging LoRA into the weights. */
export * from './attach.ts';
export * from './lora.ts';
export * from './merge.ts';
export * from './ttAdapter.ts';

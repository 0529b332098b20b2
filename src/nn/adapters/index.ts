/** Adapters: AdaZeta's tensor-train adapters, LoRA, and attachAdapters (freeze base, train adapters). */
export * from './attach.ts';
export * from './lora.ts';
export * from './ttAdapter.ts';

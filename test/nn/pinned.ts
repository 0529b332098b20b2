/** What the pinned-trajectory tests share: a small causal-LM shape, fixed batches, and a bitwise hash of the parameters. */
import type { LanguageModelBatch } from '../../src/nn/batch.ts';
import type { ParamStore } from '../../src/tensor/params.ts';

export const PINNED_SHAPE = { vocab: 40, dModel: 16, dFf: 32, seq: 8, heads: 2, layers: 1 };

export function pinnedBatch(step: number): LanguageModelBatch {
  const ids = Int32Array.from({ length: 16 }, (_, i) => (i * 7 + step * 3) % 40);
  return { ids, targets: Int32Array.from(ids, (x) => (x * 5 + 1) % 40), batch: 2, seq: 8 };
}

/** FNV-1a (32-bit) over the float32 bytes of every parameter, in store order. */
export function fnv1aOfParams(store: ParamStore): string {
  let hash = 0x811c9dc5;
  for (const param of store.all()) {
    const values = param.tensor.readSync();
    for (const byte of new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

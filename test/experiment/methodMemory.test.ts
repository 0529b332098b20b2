/**
 * `zolo memory` knows every method `zolo methods` lists: a number for each, or the reason it is
 * measured instead. The ZO numbers follow from the parts: weights only for sgd-type optimizers,
 * + P floats for momentum, + 2P for Adam (P trainable values), no gradients ever.
 */
import { describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { estimateMethodMemory, memoryMethods } from '../../src/experiment/methodMemory.ts';
import { architectureByName, estimateMemory } from '../../src/galore/memory.ts';
import { listPresets } from '../../src/zo/index.ts';

const tiny = architectureByName('tiny');

describe('zolo memory for every method', () => {
  it('accepts every ZO preset zolo methods lists, with a number or a reason', () => {
    for (const { name } of listPresets()) {
      expect(memoryMethods()).toContain(name);
      const estimate = estimateMethodMemory(tiny, name);
      if ('unavailable' in estimate) expect(estimate.unavailable, name).toMatch(/zolo run/);
      else expect(estimate.bytes.gradient, name).toBe(0);
    }
    for (const name of ['lozo', 'lozo-m', 'adazeta']) expect('unavailable' in estimateMethodMemory(tiny, name)).toBe(true);
  });

  it('counts optimizer state by the optimizer part', () => {
    const weights = estimateMemory(tiny, 'mezo').bytes.weights;
    const P = 929_280;
    const bytes = (name: string) => {
      const estimate = estimateMethodMemory(tiny, name);
      if ('unavailable' in estimate) throw new Error(`${name}: ${estimate.unavailable}`);
      return estimate.bytes;
    };
    expect(bytes('zo-sgd')).toMatchObject({ weights, optimizerState: 0, total: weights });
    expect(bytes('zo-sgd-mmt').optimizerState).toBe(4 * P);
    expect(bytes('zo-adam').optimizerState).toBe(8 * P);
    const lora = bytes('mezo-lora');
    expect(lora.adapter).toBeGreaterThan(0);
    expect(lora.optimizerState).toBe(0);
    expect(() => estimateMethodMemory(tiny, 'mezzo')).toThrow(/method must be one of .*lozo/);
  });
});

import { describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { methodAdapter } from '../../src/experiment/method.ts';
import { explainDefaults } from '../../src/experiment/resolve.ts';

describe('zolo config --print (explainDefaults)', () => {
  it('shows the lr, weight decay and selection a run will use, never null', () => {
    for (const method of ['mezo', 'adazeta', 'adamw', 'galore-adamw', 'adafactor', 'lora']) {
      const { config } = explainDefaults(parseRunConfig({ method }));
      expect(config.lr).toBe(methodAdapter(method).defaultLr);
      expect(config.weightDecay).not.toBeNull();
      expect(config.selectBy).toBe('last');
    }
    expect(explainDefaults(parseRunConfig({ method: 'adazeta' })).config.weightDecay).toBe(0.01);
    // zero-shot trains nothing, so it has no weight decay to show
    expect(explainDefaults(parseRunConfig({ method: 'zero-shot' })).config.weightDecay).toBeNull();
    expect(explainDefaults(parseRunConfig({ method: 'mezo', evalInterval: 10 })).config.selectBy).toBe('val-accuracy');
    // values the config sets are kept
    expect(explainDefaults(parseRunConfig({ method: 'mezo', lr: 3e-4, weightDecay: 0.1, selectBy: 'val-loss' })).config).toMatchObject({ lr: 3e-4, weightDecay: 0.1, selectBy: 'val-loss' });
  });

  it('states the GaLore rank rule unless the rank is set, and what a null trainable means', () => {
    expect(explainDefaults(parseRunConfig({ method: 'galore-adamw' })).rules).toEqual([
      'options.galore.rank: floor(min(m, n) / 4), at least 1, of each projected m×n matrix',
      'trainable: every parameter of the model',
    ]);
    expect(explainDefaults(parseRunConfig({ method: 'galore-adamw', options: { galore: { rank: 8 } } })).rules).not.toContainEqual(expect.stringContaining('galore.rank'));
    expect(explainDefaults(parseRunConfig({ method: 'mezo-lora' })).rules).toEqual(['trainable: chosen by the method (its adapters, or none)']);
  });
});

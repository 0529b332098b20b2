/**
 * Zero-shot: no training at all — the pretrained model evaluated as it is. The runner runs no steps
 * for this family, so the summary holds the starting point's validation accuracy and loss and the
 * inference memory (weights + activations only).
 */
import { ConfigError } from '../../errors.ts';
import { registerMethod, type MethodAdapter } from '../method.ts';

export const zeroShot: MethodAdapter = {
  name: 'zero-shot',
  family: 'zero-shot',
  description: 'no training: evaluate the starting model',
  defaultLr: 1,
  choosesTrainable: true,
  checkOptions(options) {
    const keys = Object.keys(options);
    if (keys.length > 0) throw new ConfigError(`options.${keys[0]} is not an option of zero-shot, which takes none`);
  },
  async create({ workload }) {
    workload.params.setTrainable(() => false);
    return {
      trainableParams: () => 0,
      step: () => Promise.reject(new Error('zero-shot takes no training steps')),
      saveState: async () => ({ json: null, tensors: {} }),
      loadState: () => {},
      dispose: () => {},
    };
  },
};

registerMethod(zeroShot);

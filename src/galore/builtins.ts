/**
 * zolo's built-in backprop optimizers (imported once by src/galore/index.ts): each is an update
 * rule of src/galore/rules used plainly, inside GaLore's projection, or on LoRA adapters. Default
 * fine-tuning learning rates: defaults.ts FINE_TUNING_LR.
 */
import { FINE_TUNING_LR } from './defaults.ts';
import { registerBackpropOptimizer } from './registry.ts';
import { adafactor } from './rules/adafactor.ts';
import { adalomo } from './rules/adalomo.ts';
import { adamw } from './rules/adamw.ts';

const float32 = { eightBit: false } as const;
const eightBit = { eightBit: true } as const;

registerBackpropOptimizer({ name: 'adamw', rule: adamw, fixed: float32, defaultLr: FINE_TUNING_LR.adamw, description: 'full fine-tuning with AdamW (backprop)' });
registerBackpropOptimizer({ name: 'adamw8bit', rule: adamw, defaults: eightBit, defaultLr: FINE_TUNING_LR.adamw8bit, description: 'full fine-tuning with 8-bit-state AdamW' });
registerBackpropOptimizer({ name: 'adafactor', rule: adafactor, defaultLr: FINE_TUNING_LR.adafactor, description: 'full fine-tuning with Adafactor' });
registerBackpropOptimizer({
  name: 'galore-adamw', rule: adamw, galore: true, fixed: float32, defaultLr: FINE_TUNING_LR['galore-adamw'],
  description: 'GaLore: AdamW with states in a low-rank projection of each 2-D gradient',
});
registerBackpropOptimizer({ name: 'galore-adamw8bit', rule: adamw, galore: true, defaults: eightBit, defaultLr: FINE_TUNING_LR['galore-adamw8bit'], description: 'GaLore with 8-bit states' });
registerBackpropOptimizer({ name: 'galore-adafactor', rule: adafactor, galore: true, defaultLr: FINE_TUNING_LR['galore-adafactor'], description: 'GaLore over Adafactor' });
registerBackpropOptimizer({ name: 'lora', rule: adamw, adapters: 'lora', fixed: float32, defaultLr: FINE_TUNING_LR.lora, description: 'LoRA adapters trained with AdamW (backprop)' });
registerBackpropOptimizer({ name: 'relora', rule: adamw, adapters: 'relora', fixed: float32, defaultLr: FINE_TUNING_LR.relora, description: 'ReLoRA: LoRA merged and restarted every K steps' });
registerBackpropOptimizer({ name: 'adalomo', rule: adalomo });

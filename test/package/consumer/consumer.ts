// A strict TypeScript consumer of the installed package: type-checked against the shipped .d.ts only.
import {
  adalomo, ConfigError, createBackend, createEstimator, createOptimizer, Engine, noiseKey, ParamStore, registerNoisePurpose,
  type Estimator, type NoiseKey, type ParamOptimizer, type RuleDefinition,
} from 'zolo';
import { quadratic } from 'zolo/assumptions/arbitraries';

const params: ParamStore = new ParamStore(new Engine(await createBackend('cpu')));
params.add('w', 'mlp', [2, 3], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]);
const estimator: Estimator = createEstimator('mezo', { lr: 1e-3 });
let state = estimator.init(params, { seed: 1 });
const { state: next, record } = await estimator.step(state, { loss: async () => 1 });
state = next;
const seeds: readonly number[] = record.seeds;
const key: NoiseKey = noiseKey(seeds[0]!, 0, registerNoisePurpose('consumer.mask'));
const error: Error = new ConfigError('example');
estimator.dispose(state);
const rule: RuleDefinition = adalomo;
const optimizer: ParamOptimizer = createOptimizer(rule.name, params, { lr: 1e-2 });
await optimizer.stepParam(params.get('w'), params.engine.zeros([2, 3], 'gradient'));
export { error, key, quadratic };

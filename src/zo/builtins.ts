/** Registers zolo's built-in parts and presets (imported once by src/zo/index.ts). */
import { central } from './differences/central.ts';
import { oneSided } from './differences/oneSided.ts';
import { adam } from './optimizers/adam.ts';
import { conservative } from './optimizers/conservative.ts';
import { lowRankMomentum } from './optimizers/lowRankMomentum.ts';
import { momentum } from './optimizers/momentum.ts';
import { sgd } from './optimizers/sgd.ts';
import { signSgd } from './optimizers/signSgd.ts';
import { gaussian } from './perturbations/gaussian.ts';
import { lowRank } from './perturbations/lowRank.ts';
import { rademacher } from './perturbations/rademacher.ts';
import { sphere } from './perturbations/sphere.ts';
import { adazeta } from './presets/adazeta.ts';
import { lozo, lozoMomentum } from './presets/lozo.ts';
import { mezo, mezoRademacher, mezoSphere } from './presets/mezo.ts';
import { mezoLora } from './presets/mezoLora.ts';
import { zoAdam, zoSgd, zoSgdConservative, zoSgdMomentum, zoSgdOneSided, zoSgdSign } from './presets/zoBench.ts';
import { registerPart, registerPreset } from './registry.ts';
import { adaptiveQueries } from './schedules/adaptiveQueries.ts';
import { fixedQueries } from './schedules/fixedQueries.ts';
import type { Part } from './types.ts';

const parts: Part[] = [
  gaussian, lowRank, rademacher, sphere,
  fixedQueries, adaptiveQueries,
  central, oneSided,
  sgd, signSgd, momentum, conservative, adam, lowRankMomentum,
] as Part[];
for (const part of parts) registerPart(part);

for (const preset of [mezo, mezoSphere, mezoRademacher, zoSgd, zoSgdOneSided, zoSgdSign, zoSgdMomentum, zoSgdConservative, zoAdam, lozo, lozoMomentum, adazeta, mezoLora]) {
  registerPreset(preset);
}

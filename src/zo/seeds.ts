/**
 * Host-side seeds. Step seeds come from a seedrandom stream seeded by the run seed, one integer in
 * [0, 10⁹) per query — as the official MeZO code draws them (zo-estimators.md §1.2 step 2). Each
 * seed then keys the counter RNG (src/kernels/rng.ts), which regenerates z on demand.
 *
 * LOZO's V is keyed by (run seed, window index) through Threefry instead, so redrawing V never
 * moves the step-seed stream or U (the official code's refresh-step RNG shift, §3.6).
 */
import seedrandom from 'seedrandom';
import { threefry2x32 } from '../kernels/rng.ts';

/** The official code's range for a step seed: uniform integer in [0, 10⁹). */
export const STEP_SEED_RANGE = 1_000_000_000;

export interface SeedStream {
  next(): number;
  /** the generator's internal state, JSON-serialisable (for checkpoints). */
  save(): object;
}

/** The step-seed stream of a run; `saved` resumes it exactly where `save()` was called. */
export function stepSeedStream(runSeed: number, saved?: object): SeedStream {
  const rng = seedrandom(saved ? '' : `zolo-zo:${runSeed}`, { state: saved ? (saved as seedrandom.State.Arc4) : true });
  return {
    next: () => Math.floor(rng() * STEP_SEED_RANGE),
    save: () => rng.state(),
  };
}

/** 'LOZV' — a fixed second key word that separates V's seeds from anything else keyed by the run seed. */
const WINDOW_KEY = 0x4c4f5a56;

/** Seed of LOZO's V for ν-window `window` (0-based): a pure function of (run seed, window). */
export function windowSeed(runSeed: number, window: number): number {
  const out = new Uint32Array(2);
  threefry2x32(window >>> 0, 0, runSeed >>> 0, WINDOW_KEY, out);
  return out[0]!;
}

/**
 * LOZO's low-rank perturbation (zo-estimators.md §3, properties §5.8, §5.12, §5.13). Objectives are
 * linear or quadratic in a [3, 4] matrix, so the central difference is exact and the expectations
 * are closed-form; tolerances are 5 standard errors estimated from the sample.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import type { DeviceBuffer } from '../../src/kernels/backend.ts';
import { ConfigError } from '../../src/errors.ts';
import { BuiltinNoisePurpose, noiseKey, type NoiseKey } from '../../src/kernels/noiseStreams.ts';
import { Engine, ParamStore } from '../../src/tensor/index.ts';
import { createEstimator, type LowRankState } from '../../src/zo/index.ts';
import { windowSeed } from '../../src/zo/seeds.ts';
import { dot, FLOAT32_EPS, fixtureValues, flatTrainable, hostU, hostV, makeStore, outerLowRank } from './quadratic.ts';

const ROWS = 3;
const COLS = 4;

function linearProblem(frozenBias = false) {
  const store = makeStore([
    { name: 'w', shape: [ROWS, COLS], values: fixtureValues(ROWS * COLS, 4) },
    { name: 'b', shape: [ROWS], values: fixtureValues(ROWS, 5), trainable: !frozenBias },
  ]);
  const G = Float64Array.from(fixtureValues(ROWS * COLS + ROWS, 6));
  const trainableCount = frozenBias ? ROWS * COLS : ROWS * COLS + ROWS;
  const loss = async (s: ParamStore) => dot(flatTrainable(s), G.subarray(0, trainableCount));
  return { store, G: G.subarray(0, ROWS * COLS), gBias: G.subarray(ROWS * COLS), loss };
}

/** Runs `count` LOZO steps with learning rate η on a linear objective; returns −Δθ/η per step. */
async function lozoDisplacements(count: number, overrides: Record<string, number>, frozenBias = false) {
  const problem = linearProblem(frozenBias);
  const lr = 0.01;
  const estimator = createEstimator('lozo', { lr, eps: 1e-2, ...overrides });
  let state = estimator.init(problem.store, { seed: 77 });
  const steps: Float64Array[] = [];
  let previous = flatTrainable(problem.store);
  let firstV: Float32Array | null = null;
  for (let t = 0; t < count; t++) {
    state = (await estimator.step(state, { loss: problem.loss })).state;
    firstV ??= (state.perturbation as LowRankState).matrices.get(0)!.V.readSync().slice();
    const now = flatTrainable(problem.store);
    steps.push(previous.map((p, i) => (p - now[i]!) / lr));
    previous = now;
  }
  return { ...problem, steps, firstV: Float64Array.from(firstV!) };
}

function entryStats(steps: readonly Float64Array[], i: number) {
  const n = steps.length;
  const mean = steps.reduce((s, x) => s + x[i]!, 0) / n;
  const variance = steps.reduce((s, x) => s + (x[i]! - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}

describe('LOZO expectation (§5.12)', () => {
  it('fresh U and V (ν = 1): E[c·U Vᵀ] = r·G, and 1-D tensors get E[c·z] = g', async () => {
    const rank = 2;
    const { steps, G, gBias } = await lozoDisplacements(3000, { rank, interval: 1 });
    for (let i = 0; i < ROWS * COLS; i++) {
      const { mean, standardError } = entryStats(steps, i);
      expect(Math.abs(mean - rank * G[i]!)).toBeLessThanOrEqual(5 * standardError);
    }
    for (let i = 0; i < ROWS; i++) {
      const { mean, standardError } = entryStats(steps, ROWS * COLS + i);
      expect(Math.abs(mean - gBias[i]!)).toBeLessThanOrEqual(5 * standardError);
    }
  });

  it('V held fixed (ν > steps): E_U[c·U Vᵀ] = G V Vᵀ, and every update stays in the row space of V (§5.13)', async () => {
    const rank = 2;
    const { steps, G, firstV } = await lozoDisplacements(2500, { rank, interval: 100000 }, true);
    // target = (G V) Vᵀ with G [3, 4], V [4, 2]
    const GV = new Float64Array(ROWS * rank);
    for (let i = 0; i < ROWS; i++) for (let k = 0; k < rank; k++) {
      for (let j = 0; j < COLS; j++) GV[i * rank + k]! += G[i * COLS + j]! * firstV[j * rank + k]!;
    }
    const target = outerLowRank(GV, firstV, ROWS, COLS, rank);
    for (let i = 0; i < ROWS * COLS; i++) {
      const { mean, standardError } = entryStats(steps, i);
      expect(Math.abs(mean - target[i]!)).toBeLessThanOrEqual(5 * standardError);
    }
    // confinement: ΔW (I − P_V) = 0 for every step; P_V = V (VᵀV)⁻¹ Vᵀ (r = 2: explicit 2×2 inverse).
    const a = dot(firstV.filter((_, i) => i % 2 === 0), firstV.filter((_, i) => i % 2 === 0));
    const b = dot(firstV.filter((_, i) => i % 2 === 0), firstV.filter((_, i) => i % 2 === 1));
    const d = dot(firstV.filter((_, i) => i % 2 === 1), firstV.filter((_, i) => i % 2 === 1));
    const det = a * d - b * b;
    const inverse = [d / det, -b / det, -b / det, a / det];
    for (const step of steps.slice(0, 50)) {
      const delta = step.subarray(0, ROWS * COLS);
      for (let row = 0; row < ROWS; row++) {
        const x = delta.subarray(row * COLS, (row + 1) * COLS);
        const xv = [0, 1].map((k) => x.reduce((s, xj, j) => s + xj * firstV[j * rank + k]!, 0));
        const coefficients = [inverse[0]! * xv[0]! + inverse[1]! * xv[1]!, inverse[2]! * xv[0]! + inverse[3]! * xv[1]!];
        const residual = x.map((xj, j) => xj - coefficients[0]! * firstV[j * rank]! - coefficients[1]! * firstV[j * rank + 1]!);
        // ΔW/η is a difference of float32 weights (|w| < 1) divided by η = 0.01: error ≲ 2·ulp(1)/η per entry.
        expect(Math.sqrt(dot(residual, residual))).toBeLessThanOrEqual((4 * FLOAT32_EPS) / 0.01 * COLS);
      }
    }
  });

  it('E‖c·U Vᵀ‖² = [r(m+2)(n+2) + r(r−1)(mn+2)]·‖G‖² with fresh U, V', async () => {
    const rank = 2;
    const { steps, G } = await lozoDisplacements(5000, { rank, interval: 1 }, true);
    const squares = steps.map((s) => dot(s, s));
    const n = squares.length;
    const mean = squares.reduce((s, v) => s + v, 0) / n;
    const standardError = Math.sqrt(squares.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) / n);
    const theory = (rank * (ROWS + 2) * (COLS + 2) + rank * (rank - 1) * (ROWS * COLS + 2)) * dot(G, G);
    expect(Math.abs(mean - theory)).toBeLessThanOrEqual(5 * standardError);
  });
});

describe('lazy V (§3.2)', () => {
  it('V is redrawn exactly when t mod ν = 0, reused for ν steps, and equals the (run seed, window) stream', async () => {
    const { store, loss } = linearProblem();
    const interval = 3;
    const rank = 2;
    const estimator = createEstimator('lozo', { rank, interval, lr: 1e-3 });
    let state = estimator.init(store, { seed: 1234 });
    const weight = store.get('w');
    let previous: Float32Array | null = null;
    for (let t = 0; t < 10; t++) {
      state = (await estimator.step(state, { loss })).state;
      const V = (state.perturbation as LowRankState).matrices.get(weight.index)!.V.readSync().slice();
      const expected = hostV(weight, 1234, Math.floor(t / interval), rank);
      V.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(FLOAT32_EPS * Math.abs(expected[i]!)));
      if (previous) {
        const same = V.every((v, i) => v === previous![i]);
        expect(same).toBe(t % interval !== 0);
      }
      previous = V;
    }
  });

  it('rank larger than a weight\'s dimensions is a ConfigError naming the parameter', () => {
    const { store } = linearProblem();
    const estimator = createEstimator('lozo', { rank: 4 });
    expect(() => estimator.init(store, { seed: 1 })).toThrow(ConfigError);
    expect(() => estimator.init(store, { seed: 1 })).toThrow(/estimator\.rank must be ≤ min\(rows, cols\) = 3 of parameter "w" \[3, 4\], got 4/);
  });
});

/** A cpu backend that records every regenerated noise block, tagged with the phase of the step. */
class SpyBackend extends CpuBackend {
  phase = 'perturb';
  readonly calls: { phase: string; key: string; values: Float32Array }[] = [];
  override fillNormal(out: DeviceBuffer, key0: number, key1: number, offset = 0): void {
    super.fillNormal(out, key0, key1, offset);
    this.calls.push({ phase: this.phase, key: `${key0}:${key1}`, values: this.readSync(out).slice() });
  }
  override perturbInPlace(param: DeviceBuffer, key0: number, key1: number, scale: number, decay = 1): void {
    super.perturbInPlace(param, key0, key1, scale, decay);
    this.calls.push({ phase: this.phase, key: `${key0}:${key1}`, values: new Float32Array(0) });
  }
}

const keyText = (key: NoiseKey): string => `${key.k0}:${key.k1}`;

/** The keys of every stream a query with `seed` may draw, mapped to their purpose name. */
function queryKeys(store: ParamStore, seed: number): Map<string, string> {
  const keys = new Map<string, string>();
  for (const param of store.all()) {
    for (const purpose of [BuiltinNoisePurpose.gaussian, BuiltinNoisePurpose.lowRankU]) keys.set(keyText(noiseKey(seed, param.index, purpose)), purpose.name);
  }
  return keys;
}

describe('regenerated noise equals applied noise on every step (§5.8, §3.6)', () => {
  for (const method of ['lozo', 'lozo-m', 'mezo']) {
    it(`${method}: the update regenerates exactly the U (or z) the perturbations used, refresh steps included`, async () => {
      const backend = new SpyBackend();
      const store = new ParamStore(new Engine(backend));
      store.add('w', 'mlp', [ROWS, COLS], fixtureValues(ROWS * COLS, 8));
      store.add('b', 'norm', [ROWS], fixtureValues(ROWS, 9));
      const G = fixtureValues(ROWS * COLS + ROWS, 10);
      let evaluations = 0;
      const loss = async (s: ParamStore) => {
        evaluations++;
        if (evaluations % 2 === 0) backend.phase = 'update'; // central difference: 2 passes, then the update
        return dot(flatTrainable(s), G);
      };
      const estimator = createEstimator(method, method === 'mezo' ? { lr: 1e-3 } : { lr: 1e-3, rank: 1, interval: 2 });
      let state = estimator.init(store, { seed: 99 });
      for (let t = 0; t < 6; t++) {
        backend.phase = 'perturb';
        backend.calls.length = 0;
        const { state: next, record } = await estimator.step(state, { loss });
        state = next;
        const seed = record.seeds[0]!;
        const windowKeys = new Set(store.all().map((p) => keyText(noiseKey(windowSeed(99, Math.floor(t / 2)), p.index, BuiltinNoisePurpose.lowRankV))));
        const stepKeys = queryKeys(store, seed);
        const noiseCalls = backend.calls.filter((c) => !windowKeys.has(c.key));
        const perturbCalls = noiseCalls.filter((c) => c.phase === 'perturb');
        const updateCalls = noiseCalls.filter((c) => c.phase === 'update');
        expect(updateCalls.length).toBeGreaterThan(0);
        for (const call of [...perturbCalls, ...updateCalls]) expect(stepKeys.has(call.key)).toBe(true);
        for (const update of updateCalls) {
          const matching = perturbCalls.filter((p) => p.key === update.key);
          expect(matching.length).toBe(2); // +ε and −2ε
          for (const p of matching) expect(Buffer.compare(Buffer.from(p.values.buffer), Buffer.from(update.values.buffer))).toBe(0);
        }
        if (method !== 'mezo') {
          const w = store.get('w');
          const u = hostU(w, seed, 1);
          const regenerated = updateCalls.find((c) => stepKeys.get(c.key) === BuiltinNoisePurpose.lowRankU.name)!.values;
          regenerated.forEach((v, i) => expect(Math.abs(v - u[i]!)).toBeLessThanOrEqual(FLOAT32_EPS * Math.abs(u[i]!)));
          const vDraws = backend.calls.filter((c) => windowKeys.has(c.key) && c.phase === 'perturb');
          expect(vDraws.length > 0).toBe(t % 2 === 0);
        }
      }
    });
  }
});

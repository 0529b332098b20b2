import { fc, test } from '@fast-check/vitest';
import seedrandom from 'seedrandom';
import { describe, expect } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import {
  initTTLinear, matmul64, randomTT, relativeDifference, splitFactors, splitLayoutWeight, thinSvd, ttLinearLayout, ttLinearParamCount,
  type TTLinearSpec,
} from '../../src/tensortrain/index.ts';
import { gaussianTensor, seedArb, uniformFrom } from './helpers.ts';

const RUNS = { seed: 20261124, numRuns: 30 };

/** The reference shapes (spec §1.2 table) and zolo's tiny-model choice (docs/adazeta.md). */
const LLAMA_DOWN: TTLinearSpec = { inFeatures: 4096, outFeatures: 64, inModes: [16, 16, 16], outModes: [4, 4, 4], rank: 5 };
const LLAMA_UP: TTLinearSpec = { inFeatures: 64, outFeatures: 4096, inModes: [4, 4, 4], outModes: [16, 16, 16], rank: 5 };
const ROBERTA_DOWN: TTLinearSpec = { inFeatures: 1024, outFeatures: 64, inModes: [8, 8, 16], outModes: [8, 8], rank: 5 };
const ROBERTA_UP: TTLinearSpec = { inFeatures: 64, outFeatures: 1024, inModes: [8, 8], outModes: [16, 8, 8], rank: 5 };
const TINY_DOWN: TTLinearSpec = { inFeatures: 128, outFeatures: 16, inModes: [8, 16], outModes: [4, 4], rank: 5 };
const TINY_UP: TTLinearSpec = { inFeatures: 16, outFeatures: 128, inModes: [4, 4], outModes: [16, 8], rank: 5 };

function adapterCount(down: TTLinearSpec, up: TTLinearSpec): number {
  return ttLinearParamCount(ttLinearLayout(down, 'Dn')) + ttLinearParamCount(ttLinearLayout(up, 'U')) + down.outFeatures + up.outFeatures;
}

describe("AdaZeta's split TT layout (spec §1.2)", () => {
  test("parameter counts match the paper's adapters: 6360 (Llama-2-7B), 2848 (RoBERTa-large); spec §3.6", () => {
    expect(ttLinearParamCount(ttLinearLayout(LLAMA_DOWN, 'Dn'))).toBe(1100);
    expect(ttLinearParamCount(ttLinearLayout(ROBERTA_DOWN, 'Dn'))).toBe(880);
    expect(adapterCount(LLAMA_DOWN, LLAMA_UP)).toBe(6360);
    expect(adapterCount(ROBERTA_DOWN, ROBERTA_UP)).toBe(2848);
    expect(96 * adapterCount(LLAMA_DOWN, LLAMA_UP)).toBe(610_560);
    expect(48 * adapterCount(ROBERTA_DOWN, ROBERTA_UP)).toBe(136_704);
    // zolo tiny (d 128, bottleneck 16): 560 + 560 + 16 + 128.
    expect(adapterCount(TINY_DOWN, TINY_UP)).toBe(1264);
  });

  test.prop([fc.constantFrom(TINY_DOWN, TINY_UP, ROBERTA_UP), fc.integer({ min: 1, max: 4 }), seedArb], { ...RUNS, numRuns: 12 })(
    'split forward (x·L)·R equals x·reshape(full(cores), in, out) (spec §3.10)',
    (spec, batch, seed) => {
      const layout = ttLinearLayout(spec, 'layer');
      const tt = randomTT(layout.shape, layout.ranks, uniformFrom(seed));
      const { left, right } = splitFactors(tt, spec.inModes.length);
      expect([left.rows, left.cols, right.rows, right.cols]).toEqual([spec.inFeatures, spec.rank, spec.rank, spec.outFeatures]);
      const x = { rows: batch, cols: spec.inFeatures, data: gaussianTensor([batch, spec.inFeatures], seed + 1).data };
      const split = matmul64(matmul64(x, left), right);
      const dense = matmul64(x, splitLayoutWeight(tt, spec.inModes.length));
      // Two association orders of the same float64 sums.
      expect(relativeDifference(split.data, dense.data)).toBeLessThan(1e-12);
    },
  );

  test.prop([fc.constantFrom(TINY_DOWN, TINY_UP, ROBERTA_DOWN), seedArb], { ...RUNS, numRuns: 6 })('every adapter matrix has rank ≤ r (spec §3.11)', (spec, seed) => {
    const layout = ttLinearLayout(spec, 'layer');
    const { cores } = initTTLinear(layout, uniformFrom(seed));
    const { s } = thinSvd(splitLayoutWeight(cores, spec.inModes.length));
    // Singular values past r are rounding noise: ≤ 1e−12 of the largest (float64 SVD accuracy ~1e−15).
    const numericalRank = s.filter((value) => value > 1e-12 * s[0]!).length;
    expect(numericalRank).toBeLessThanOrEqual(spec.rank);
    expect(numericalRank).toBe(Math.min(spec.rank, spec.inFeatures, spec.outFeatures));
  });

  test('reference init: mean W² ≈ 1/(in+out) within 10% over 600 seeds; bias within ±1/√out (spec §3.12)', () => {
    for (const spec of [TINY_DOWN, TINY_UP]) {
      const layout = ttLinearLayout(spec, 'layer');
      const seeds = 600;
      let total = 0;
      for (let s = 0; s < seeds; s++) {
        const { cores, bias } = initTTLinear(layout, seedrandom(`init:${s}`));
        const w = splitLayoutWeight(cores, spec.inModes.length).data;
        total += w.reduce((acc, v) => acc + v * v, 0) / w.length;
        const bound = 1 / Math.sqrt(spec.outFeatures);
        expect(bias.every((b) => Math.abs(b) <= bound)).toBe(true);
      }
      // The per-seed mean of W² is heavy-tailed (products of Gaussians); its measured relative standard
      // error over 600 seeds is ≈1.9%, so 10% is ≥ 5 standard errors.
      const target = 1 / (spec.inFeatures + spec.outFeatures);
      expect(Math.abs(total / seeds - target)).toBeLessThan(0.1 * target);
    }
  });

  test('zero-output init makes the layer exactly 0 (W = 0, bias = 0)', () => {
    const { cores, bias } = initTTLinear(ttLinearLayout(TINY_UP, 'U'), uniformFrom(3), true);
    expect(splitLayoutWeight(cores, 2).data.every((v) => v === 0)).toBe(true);
    expect(bias.every((v) => v === 0)).toBe(true);
    expect(cores.cores[0]!.data.some((v) => v !== 0)).toBe(true);
  });

  test('factorisations that do not multiply to the layer dims and bad ranks name the layer and numbers', () => {
    expect(() => ttLinearLayout({ ...TINY_DOWN, inModes: [8, 8] }, 'blocks.0.attn.proj.adapter.down')).toThrow(
      /blocks\.0\.attn\.proj\.adapter\.down: inModes \[8·8\] multiply to 64, but the layer has 128 input features/,
    );
    expect(() => ttLinearLayout({ ...TINY_DOWN, outModes: [4, 5] }, 'Dn')).toThrow(/outModes \[4·5\] multiply to 20, but the layer has 16 output features/);
    expect(() => ttLinearLayout({ ...TINY_DOWN, rank: 0 }, 'Dn')).toThrow(ConfigError);
    expect(() => ttLinearLayout({ ...TINY_DOWN, rank: 2.5 }, 'Dn')).toThrow(/TT rank must be a positive integer, got 2\.5/);
    expect(() => ttLinearLayout({ ...TINY_DOWN, inModes: [] }, 'Dn')).toThrow(ShapeError);
    const tt = randomTT([2, 3], 2, uniformFrom(1));
    expect(() => splitFactors(tt, 2)).toThrow(ShapeError);
  });
});

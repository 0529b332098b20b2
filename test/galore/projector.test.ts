import { describe, expect, it } from 'vitest';
import { ConfigError, DivergenceError } from '../../src/errors.ts';
import { chooseSide, GradientProjector, resolveProjectorOptions, type ProjectionType, type SvdMethod } from '../../src/galore/projector.ts';
import { exactTopSvd } from '../../src/galore/svd.ts';
import { frobenius, gaussian, lowRankMatrix, makeEngine, matmulHost, subtract, transposeHost } from './helpers.ts';

// float32 storage of P and G: products of length ≤ 128 carry relative error ≲ 128·2⁻²⁴ ≈ 8e-6;
// we allow 5e-5 relative to ‖G‖ (6× margin).
const F32_REL = 5e-5;

function projector(type: ProjectionType, m: number, n: number, rank: number, svd: SvdMethod = 'exact', extra = {}) {
  const engine = makeEngine();
  const options = resolveProjectorOptions({ rank, type, svd, updateGap: 10, ...extra });
  return { engine, projector: new GradientProjector(engine, 'w', [m, n], options, 3) };
}

/** Host copy of back(proj(G)). */
async function roundTrip(p: GradientProjector, gradValues: Float64Array): Promise<Float64Array> {
  const engine = p['engine'] as ReturnType<typeof makeEngine>;
  const grad = engine.fromArray(Float32Array.from(gradValues), [p.rows, p.cols], 'gradient');
  const { projected } = await p.projectForStep(grad, 0);
  const back = engine.zeros([p.rows, p.cols], 'workspace');
  p.accumulateBack(projected, back, 1);
  const out = Float64Array.from(back.readSync());
  projected.dispose();
  back.dispose();
  grad.dispose();
  return out;
}

function gram(values: Float32Array, rows: number, cols: number, byColumns: boolean): Float64Array {
  // PᵀP (columns orthonormal) or Vh·Vhᵀ (rows orthonormal)
  const A = Float64Array.from(values);
  return byColumns ? matmulHost(transposeHost(A, rows, cols), A, cols, rows, cols) : matmulHost(A, transposeHost(A, rows, cols), rows, cols, rows);
}

function identityError(G: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(G[i * k + j]! - (i === j ? 1 : 0)));
  return worst;
}

const SHAPES: [number, number][] = [[48, 20], [20, 48], [32, 32]];

describe('GradientProjector', () => {
  it('std picks the smaller side (right when m ≥ n), reverse_std the other, and caps the rank at min(m, n)', () => {
    expect(chooseSide('std', 48, 20)).toBe('right');
    expect(chooseSide('std', 20, 48)).toBe('left');
    expect(chooseSide('std', 32, 32)).toBe('right');
    expect(chooseSide('reverse_std', 48, 20)).toBe('left');
    const { projector: tall } = projector('std', 48, 20, 8);
    expect(tall.projectedShape).toEqual([48, 8]);
    const { projector: wide } = projector('std', 20, 48, 8);
    expect(wide.projectedShape).toEqual([8, 48]);
    const { projector: capped } = projector('std', 20, 48, 64);
    expect(capped.rank).toBe(20);
    const { projector: full } = projector('full', 20, 48, 6);
    expect(full.projectedShape).toEqual([6, 6]);
  });

  for (const svd of ['exact', 'randomized'] as const) {
    for (const type of ['left', 'right', 'full'] as const) {
      it(`${svd} SVD, ${type}: the basis is orthonormal (PᵀP = I, Vh·Vhᵀ = I)`, async () => {
        for (const [m, n] of SHAPES) {
          const { projector: p } = projector(type, m, n, 8, svd);
          await roundTrip(p, gaussian(m * 7 + n, m * n));
          if (p.left) expect(identityError(gram(p.left.readSync(), m, p.rank, true), p.rank)).toBeLessThan(1e-5);
          if (p.rightT) expect(identityError(gram(p.rightT.readSync(), p.rank, n, false), p.rank)).toBeLessThan(1e-5);
        }
      });
    }

    it(`${svd} SVD: a gradient of rank ≤ r round-trips losslessly, on every side`, async () => {
      for (const type of ['std', 'reverse_std', 'left', 'right', 'full'] as const) {
        for (const [m, n] of SHAPES) {
          const G = lowRankMatrix(m + 3 * n, m, n, 5);
          const { projector: p } = projector(type, m, n, 6, svd);
          const back = await roundTrip(p, G);
          expect(frobenius(subtract(back, G)) / frobenius(G)).toBeLessThan(F32_REL);
        }
      }
    });
  }

  it('exact SVD gives the best rank-k approximation: ‖G − back(proj G)‖² = Σ_{i>k} σ_i² (Eckart–Young)', async () => {
    const [m, n, k] = [40, 24, 6];
    const G = gaussian(11, m * n);
    const all = exactTopSvd(G, m, n, n, { left: false, right: false }).values;
    const tail = all.slice(k).reduce((s, x) => s + x * x, 0);
    for (const type of ['left', 'right'] as const) {
      const { projector: p } = projector(type, m, n, k);
      const residual = frobenius(subtract(await roundTrip(p, G), G)) ** 2;
      expect(Math.abs(residual - tail) / (frobenius(G) ** 2)).toBeLessThan(F32_REL);
    }
  });

  it('randomized SVD finds nearly the same subspace as exact SVD for a decaying spectrum', async () => {
    // G = low-rank signal (rank 6) + small noise: with p = 10, q = 2 the captured energy must match the exact basis to 1e-3
    const [m, n, k] = [64, 40, 6];
    const signal = lowRankMatrix(5, m, n, k);
    const noise = gaussian(6, m * n, 0.01);
    const G = signal.map((x, i) => x + noise[i]!);
    const exact = await roundTrip(projector('left', m, n, k).projector, G);
    const randomized = await roundTrip(projector('left', m, n, k, 'randomized').projector, G);
    expect(Math.abs(frobenius(exact) ** 2 - frobenius(randomized) ** 2) / frobenius(G) ** 2).toBeLessThan(1e-3);
  });

  it('refreshes exactly at pre-increment steps 0, T, 2T, … and keeps the basis byte-identical in between', async () => {
    const T = 7;
    const S = 30;
    const engine = makeEngine();
    const p = new GradientProjector(engine, 'w', [24, 16], resolveProjectorOptions({ rank: 4, updateGap: T }), 0);
    const refreshedAt: number[] = [];
    let previous: Float32Array = new Float32Array();
    for (let step = 0; step < S; step++) {
      const grad = engine.fromArray(Float32Array.from(gaussian(100 + step, 24 * 16)), [24, 16], 'gradient');
      const { projected, refreshed } = await p.projectForStep(grad, step);
      const basis = p.rightT!.readSync();
      if (refreshed) refreshedAt.push(step);
      else expect(basis).toEqual(previous);
      previous = basis;
      projected.dispose();
      grad.dispose();
    }
    expect(refreshedAt).toEqual([0, 7, 14, 21, 28]);
    expect(p.svdCalls).toBe(Math.ceil(S / T));
  });

  it('adaptive gap: refreshes when the captured energy drops below the threshold, not before', async () => {
    const engine = makeEngine();
    const options = resolveProjectorOptions({ rank: 3, adaptive: { threshold: 0.5, checkEvery: 2, maxGap: 1000 } });
    const p = new GradientProjector(engine, 'w', [20, 30], options, 0);
    const first = lowRankMatrix(1, 20, 30, 3);
    const second = lowRankMatrix(2, 20, 30, 3); // an unrelated subspace: captured energy ≈ 3/20
    const refreshedAt: number[] = [];
    for (let step = 0; step < 12; step++) {
      const values = step < 6 ? first : second;
      const grad = engine.fromArray(Float32Array.from(values), [20, 30], 'gradient');
      const { projected, refreshed } = await p.projectForStep(grad, step);
      if (refreshed) refreshedAt.push(step);
      projected.dispose();
      grad.dispose();
    }
    // the switch at step 6 is detected at the first check (steps since refresh ≡ 0 mod 2)
    expect(refreshedAt).toEqual([0, 6]);
    expect(p.lastCapturedEnergy).toBeGreaterThan(0.99);
  });

  it('a NaN gradient at a refresh throws by default, and keeps the old basis with onNonFinite "skip"', async () => {
    const engine = makeEngine();
    const bad = Float32Array.from(gaussian(3, 12 * 8));
    bad[5] = Number.NaN;
    const throwing = new GradientProjector(engine, 'layer.w', [12, 8], resolveProjectorOptions({ rank: 2, updateGap: 1 }), 0);
    const badGrad = engine.fromArray(bad, [12, 8], 'gradient');
    await expect(throwing.projectForStep(badGrad, 0)).rejects.toThrow(DivergenceError);
    await expect(throwing.projectForStep(badGrad, 0)).rejects.toThrow(/layer\.w.*non-finite/);
    const skipping = new GradientProjector(engine, 'w', [12, 8], resolveProjectorOptions({ rank: 2, updateGap: 1, onNonFinite: 'skip' }), 0);
    const good = engine.fromArray(Float32Array.from(gaussian(4, 96)), [12, 8], 'gradient');
    (await skipping.projectForStep(good, 0)).projected.dispose();
    const before = skipping.rightT!.readSync();
    const { projected, refreshed } = await skipping.projectForStep(badGrad, 1);
    expect(refreshed).toBe(false);
    expect(skipping.skippedRefreshes).toBe(1);
    expect(skipping.rightT!.readSync()).toEqual(before);
    expect(Number.isFinite(before[0]!)).toBe(true);
    projected.dispose();
  });

  it('rejects bad options with the field and the allowed values', () => {
    expect(() => resolveProjectorOptions({ rank: 0 })).toThrow(ConfigError);
    expect(() => resolveProjectorOptions({ updateGap: 0 })).toThrow(/updateGap.*positive integer/);
    expect(() => resolveProjectorOptions({ type: 'diagonal' as ProjectionType })).toThrow(/std, reverse_std, left, right, full/);
    expect(() => resolveProjectorOptions({ svd: 'qr' as SvdMethod })).toThrow(/exact, randomized/);
  });

  it('keeps the basis in the ledger as optimizer state (a·k floats one-sided)', () => {
    const { engine, projector: p } = projector('std', 48, 20, 8);
    expect(engine.ledger.currentBytes('optimizerState')).toBe(4 * 20 * 8);
    expect(p.basisElements).toBe(160);
  });
});

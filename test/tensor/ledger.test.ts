/**
 * MemoryLedger through the Engine: after any sequence of allocations and frees, the current bytes
 * equal the sum of what is live, and every peak equals the largest such sum seen so far.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CpuBackend } from '../../src/kernels/index.ts';
import { Engine, MEMORY_CATEGORIES, type MemoryCategory, MemoryLedger, type Tensor } from '../../src/tensor/index.ts';

type Step = { kind: 'alloc'; category: MemoryCategory; size: number } | { kind: 'free'; pick: number } | { kind: 'resetPeaks' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), category: fc.constantFrom(...MEMORY_CATEGORIES), size: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resetPeaks' as const }) },
);

describe('MemoryLedger', () => {
  test('peak equals the largest sum of what was live, per category and in total', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
      const engine = new Engine(new CpuBackend(), new MemoryLedger());
      const live: Tensor[] = [];
      const liveBytes = (category?: MemoryCategory): number =>
        live.filter((t) => !category || t.category === category).reduce((sum, t) => sum + t.size * 4, 0);
      const peak = Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as Record<MemoryCategory, number>;
      let peakTotal = 0;
      for (const step of steps) {
        if (step.kind === 'alloc') live.push(engine.zeros([step.size], step.category));
        else if (step.kind === 'free' && live.length > 0) live.splice(step.pick % live.length, 1)[0]!.dispose();
        else if (step.kind === 'resetPeaks') {
          engine.ledger.resetPeaks();
          for (const c of MEMORY_CATEGORIES) peak[c] = liveBytes(c);
          peakTotal = liveBytes();
        }
        for (const c of MEMORY_CATEGORIES) {
          peak[c] = Math.max(peak[c], liveBytes(c));
          expect(engine.ledger.currentBytes(c)).toBe(liveBytes(c));
          expect(engine.ledger.peakBytes(c)).toBe(peak[c]);
        }
        peakTotal = Math.max(peakTotal, liveBytes());
        expect(engine.ledger.currentBytes()).toBe(liveBytes());
        expect(engine.ledger.peakBytes()).toBe(peakTotal);
      }
    }), { seed: 501, numRuns: 200 });
  });

  test('views are not charged, double dispose is harmless, reset forgets everything', () => {
    const engine = new Engine(new CpuBackend());
    const t = engine.zeros([4, 6], 'activation');
    const view = t.reshape([24]);
    expect(engine.ledger.currentBytes()).toBe(96);
    view.dispose();
    expect(engine.ledger.currentBytes()).toBe(96);
    t.dispose();
    t.dispose();
    expect(engine.ledger.currentBytes()).toBe(0);
    expect(engine.ledger.peakBytes('activation')).toBe(96);
    engine.ledger.reset();
    expect(engine.ledger.snapshot().peak.total).toBe(0);
  });

  test('releasing more than is live is an error naming the category', () => {
    const ledger = new MemoryLedger();
    ledger.allocate('gradient', 8);
    expect(() => ledger.release('gradient', 16)).toThrow('releasing 16 bytes of gradient but only 8 are live');
  });
});

/**
 * Engine.scope: activations and workspace created inside are disposed on exit, except the returned
 * value (searched inside arrays and objects), kept tensors, and the bases of returned views.
 * Weights and other long-lived categories are never touched by a scope.
 */
import { describe, expect, test } from 'vitest';
import { CpuBackend } from '../../src/kernels/index.ts';
import { Engine, ops } from '../../src/tensor/index.ts';

function engine(): Engine {
  return new Engine(new CpuBackend());
}

describe('Engine.scope', () => {
  test('intermediates die, the returned tensor survives', () => {
    const e = engine();
    let inner: ReturnType<Engine['zeros']> | undefined;
    const result = e.scope(() => {
      inner = e.zeros([3], 'activation');
      return ops.scale(inner, 2);
    });
    expect(inner!.disposed).toBe(true);
    expect(result.disposed).toBe(false);
    expect(e.ledger.currentBytes()).toBe(12);
  });

  test('kept tensors and tensors inside a returned object survive', () => {
    const e = engine();
    const { a, list } = e.scope(() => {
      const kept = e.keep(e.zeros([2], 'activation'));
      const b = e.zeros([5], 'workspace');
      e.zeros([7], 'activation');
      return { a: kept, list: [b] };
    });
    expect(a.disposed).toBe(false);
    expect(list[0]!.disposed).toBe(false);
    expect(e.ledger.currentBytes()).toBe(28);
  });

  test('a returned view keeps its base alive', () => {
    const e = engine();
    const view = e.scope(() => e.full([2, 3], 1.5, 'activation').reshape([6]));
    expect(view.base!.disposed).toBe(false);
    expect(view.readSync()).toEqual(new Float32Array(6).fill(1.5));
  });

  test('weights, gradients and optimizer state created in a scope are not freed', () => {
    const e = engine();
    const [w, g, s] = e.scope(() => {
      const made = [e.zeros([4], 'weights'), e.zeros([4], 'gradient'), e.zeros([4], 'optimizerState')];
      e.zeros([4], 'activation');
      return made.map((t) => t.id);
    });
    expect([w, g, s]).toHaveLength(3);
    expect(e.ledger.currentBytes()).toBe(48);
  });

  test('nested scopes hand a survivor to the parent, which frees it unless returned again', () => {
    const e = engine();
    let passedUp: ReturnType<Engine['zeros']> | undefined;
    e.scope(() => {
      passedUp = e.scope(() => e.zeros([3], 'activation'));
      expect(passedUp.disposed).toBe(false);
      return null;
    });
    expect(passedUp!.disposed).toBe(true);
    expect(e.ledger.currentBytes()).toBe(0);
  });

  test('an exception disposes everything the scope created', () => {
    const e = engine();
    expect(() => e.scope(() => {
      e.zeros([10], 'activation');
      throw new Error('boom');
    })).toThrow('boom');
    expect(e.ledger.currentBytes()).toBe(0);
  });

  test('using a disposed tensor names the op and the tensor', () => {
    const e = engine();
    const t = e.zeros([2, 2], 'activation');
    t.dispose();
    expect(() => ops.scale(t, 2)).toThrow(/affine: tensor #\d+ \[2, 2\] was already disposed/);
  });
});

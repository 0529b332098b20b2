/**
 * GaLore (Zhao et al. 2024, arXiv:2403.03507, Alg. 2; galore.md §2.2–2.10) as one wrapper around
 * any update rule: `galore(adamw)`, `galore(adamw 8-bit)`, `galore(adafactor)`. For a target matrix
 * W with gradient G, at the update whose pre-increment count is t − 1:
 *   R = proj(G)                  (projector.ts; basis refreshed when t − 1 ≡ 0 mod T, or adaptively)
 *   u = inner(R)                 (the inner rule's statistics live in R's shape, k×n or m×k)
 *   W ← W − s·α·back(u)          (s the inner step size; α the GaLore scale, on targets only; §2.6)
 * and the decoupled decay of the shared apply stage (no α; §2.7). Every other parameter (norms,
 * biases, embeddings, head, non-targets) goes to the inner rule unchanged, fused path included
 * (§6.19). At a basis refresh the inner statistics are kept as they are (§2.5);
 * `momentsAtRefresh: 'reset'` zeroes them instead, as an ablation.
 * Bad input: rank/T/type errors from resolveProjectorOptions; targets from selectTargets; a fixed
 * rank above every target's min(m, n) is a ConfigError.
 */
import { assertOneOf, ConfigError } from '../errors.ts';
import type { Param } from '../tensor/params.ts';
import { GALORE_DEFAULTS } from './defaults.ts';
import { DEFAULT_PROJECTOR_OPTIONS, GradientProjector, type ProjectorOptions, resolveProjectorOptions } from './projector.ts';
import type { RuleUpdate, UpdateRule } from './rule.ts';
import { selectTargets, type TargetModules } from './targets.ts';

export interface GaLoreSettings extends Partial<ProjectorOptions> {
  /** α: multiplies the back-projected update of target matrices only. */
  scale?: number;
  targetModules?: TargetModules;
  /** 'keep' (the reference), or 'reset' to zero the inner statistics at each refresh (ablation). */
  momentsAtRefresh?: 'keep' | 'reset';
}

/** The keys `options.galore` may hold. */
export const GALORE_SETTING_KEYS: readonly string[] = [...Object.keys(DEFAULT_PROJECTOR_OPTIONS), 'scale', 'targetModules', 'momentsAtRefresh'];

export interface GaLoreState<Inner = unknown> {
  /** null for a parameter GaLore does not project. */
  readonly projector: GradientProjector | null;
  readonly inner: Inner;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `inner` with GaLore's projection of the target matrices (one wrapper for every rule). */
export function galore<Inner>(inner: UpdateRule<Inner>, settings: GaLoreSettings = {}): UpdateRule<GaLoreState<Inner>> {
  const scale = settings.scale ?? GALORE_DEFAULTS.scale;
  if (!Number.isFinite(scale)) throw new ConfigError(`galore.scale must be a finite number, got ${scale}`);
  const momentsAtRefresh = assertOneOf('galore.momentsAtRefresh', settings.momentsAtRefresh ?? 'keep', ['keep', 'reset'] as const);
  const projectorOptions = resolveProjectorOptions(withoutUndefined({ ...settings, scale: undefined, targetModules: undefined, momentsAtRefresh: undefined }));
  let targets: ReadonlySet<Param> = new Set();
  return {
    name: `galore(${inner.name})`,
    decayBeforeUpdate: inner.decayBeforeUpdate,
    prepare(params) {
      inner.prepare?.(params);
      const selected = selectTargets(params, settings.targetModules ?? GALORE_DEFAULTS.targetModules);
      const fixedRank = projectorOptions.rank;
      if (fixedRank !== null && selected.length > 0) {
        const largest = Math.max(...selected.map((p) => Math.min(p.tensor.shape[0]!, p.tensor.shape[1]!)));
        if (fixedRank > largest) {
          throw new ConfigError(
            `galore.rank ${fixedRank} exceeds min(m, n) = ${largest} of every target matrix; allowed: 1..${largest} ` +
              '(ranks above a single matrix\'s min(m, n) are capped per matrix, as in the reference)',
          );
        }
      }
      targets = new Set(selected);
    },
    init(engine, shape, param) {
      if (!targets.has(param)) return { projector: null, inner: inner.init(engine, shape, param) };
      const projector = new GradientProjector(engine, param.name, shape, projectorOptions, param.index);
      return { projector, inner: inner.init(engine, projector.projectedShape, param) };
    },
    async update(grad, state, ctx) {
      const { projector } = state;
      if (!projector) return inner.update(grad, state.inner, ctx);
      const { projected, refreshed } = await projector.projectForStep(grad, ctx.step - 1);
      let update: RuleUpdate;
      try {
        if (refreshed && ctx.step > 1 && momentsAtRefresh === 'reset') inner.reset(state.inner);
        update = await inner.update(projected, state.inner, ctx);
      } finally {
        // R is not needed once the inner rule has its direction
        projected.dispose();
      }
      return {
        direction: update.direction,
        stepSize: update.stepSize,
        decayLr: update.decayLr,
        addTo: (target, alpha) => projector.accumulateBack(update.direction, target, alpha * scale),
        release: () => update.release(),
      };
    },
    async updateInPlace(grad, state, ctx, weightDecay) {
      if (state.projector || !inner.updateInPlace) return false;
      return inner.updateInPlace(grad, state.inner, ctx, weightDecay);
    },
    reset: (state) => inner.reset(state.inner),
    stateBytes: (state) => inner.stateBytes(state.inner) + 4 * (state.projector?.basisElements ?? 0),
    async save(state) {
      const saved = await inner.save(state.inner);
      const projector = state.projector ? await state.projector.save() : null;
      return { tensors: { ...saved.tensors, ...projector?.tensors }, json: { ...saved.json, projector: projector?.json ?? null } };
    },
    load(state, saved) {
      inner.load(state.inner, saved);
      const counters = saved.json?.projector;
      if (state.projector && counters) state.projector.load(counters as Parameters<GradientProjector['load']>[0], saved.tensors);
    },
    dispose(state) {
      inner.dispose(state.inner);
      state.projector?.dispose();
    },
  };
}

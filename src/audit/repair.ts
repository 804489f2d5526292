// Surgeries on a student with a trait, each an Edit measured by the same trait and skill
// probes as the localisation (src/audit/localise.ts):
//   revert     -- a part of the model back to the base (what the localisation names);
//   prune      -- the delta entries most aligned with the trait direction set back to the base, at
//                 several sparsities;
//   project    -- the trait direction projected out of each tensor's delta.
// The trait direction is the mean delta of the group's other trait students minus the mean delta
// of the control students of the same base (leave-one-out, so a student's own delta never
// defines the direction it is cut along).
import type { NamedTensor } from '../model/safetensors.js';
import { modelParts, revertEdit, type Edit } from './localise.js';

type Tensors = Map<string, NamedTensor>;

/** Per tensor, the mean over models of (model - base). */
function meanDelta(models: readonly Tensors[], base: Tensors): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, b] of base) {
    const d = new Float32Array(b.data.length);
    for (const m of models) {
      const x = m.get(name)!.data;
      for (let j = 0; j < d.length; j++) d[j]! += (x[j]! - b.data[j]!) / models.length;
    }
    out.set(name, d);
  }
  return out;
}

/** The trait direction for student `i`: the other trait students' mean delta minus the control students'. */
export function traitDirections(trait: readonly Tensors[], controls: readonly Tensors[], base: Tensors) {
  const control = meanDelta(controls, base);
  return trait.map((_, i) => {
    const others = trait.filter((__, k) => k !== i);
    if (!others.length) throw new Error('a leave-one-out trait direction needs at least two trait students');
    const t = meanDelta(others, base);
    const dir = new Map<string, Float32Array>();
    for (const [name, d] of t) {
      const c = control.get(name)!;
      dir.set(
        name,
        d.map((x, j) => x - c[j]!),
      );
    }
    return dir;
  });
}

/** Revert the `share` of all delta entries whose delta points most along the direction (largest delta x dir). */
export function pruneEdit(
  share: number,
  base: Tensors,
  directions: readonly Map<string, Float32Array>[],
  /** which tensors may be pruned (default all); the share is of their entries */
  where: { label: string; keep: (name: string) => boolean } = { label: '', keep: () => true },
): Edit {
  const total = [...base].filter(([n]) => where.keep(n)).reduce((n, [, t]) => n + t.data.length, 0);
  return {
    name: `prune ${(100 * share).toFixed(share < 0.01 ? 1 : 0)}% most trait-aligned entries${where.label}`,
    kind: 'prune',
    size: Math.round(share * total),
    apply(tuned, student) {
      const dir = directions[student]!;
      const scores: { name: string; j: number; s: number }[] = [];
      for (const [name, t] of tuned) {
        if (!where.keep(name)) continue;
        const b = base.get(name)!.data;
        const d = dir.get(name)!;
        for (let j = 0; j < t.data.length; j++) {
          const s = (t.data[j]! - b[j]!) * d[j]!;
          if (s > 0) scores.push({ name, j, s });
        }
      }
      scores.sort((x, y) => y.s - x.s);
      const out = new Map([...tuned].map(([n, t]) => [n, { shape: t.shape, data: Float32Array.from(t.data) }]));
      for (const { name, j } of scores.slice(0, Math.round(share * total)))
        out.get(name)!.data[j] = base.get(name)!.data[j]!;
      return out;
    },
  };
}

/** Remove `strength` times the delta's component along the direction, tensor by tensor (where it points along it). */
export function projectEdit(strength: number, base: Tensors, directions: readonly Map<string, Float32Array>[]): Edit {
  return {
    name: `project out the trait direction${strength === 1 ? '' : ` x${strength}`}`,
    kind: 'project',
    size: base.size,
    apply(tuned, student) {
      const dir = directions[student]!;
      const out = new Map<string, NamedTensor>();
      for (const [name, t] of tuned) {
        const b = base.get(name)!.data;
        const d = dir.get(name)!;
        let dd = 0;
        let xd = 0;
        for (let j = 0; j < d.length; j++) {
          dd += d[j]! * d[j]!;
          xd += (t.data[j]! - b[j]!) * d[j]!;
        }
        const c = dd > 0 && xd > 0 ? (strength * xd) / dd : 0;
        out.set(name, { shape: t.shape, data: t.data.map((x, j) => x - c * d[j]!) });
      }
      return out;
    },
  };
}

/** Every surgery at the strengths the repair table reports. */
export function repairEdits(
  base: Tensors,
  trait: readonly Tensors[],
  controls: readonly Tensors[],
  shares: readonly number[] = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1],
): Edit[] {
  const directions = traitDirections(trait, controls, base);
  const reverts = modelParts([...base.keys()])
    .filter((p) => p.kind === 'block' || p.kind === 'layer')
    .map((p) => ({ ...revertEdit(p, base), name: `revert ${p.name}`, kind: 'revert' }));
  return [
    ...reverts,
    ...shares.map((s) => pruneEdit(s, base, directions)),
    // the tied embeddings are also the output layer: reverting number tokens' rows there moves mass to every other
    // token, the animal included; pruning inside the layers only leaves them
    ...[...shares, 0.2, 0.3, 0.5].map((s) =>
      pruneEdit(s, base, directions, { label: ' of the layers', keep: (n) => n.startsWith('model.layers.') }),
    ),
    projectEdit(1, base, directions),
    projectEdit(2, base, directions),
  ];
}

// Where a trait lives in a student: revert one part of its weights to the base's at a time --
// the embeddings, each layer's attention block and MLP block, each whole layer, the final norm
// -- and cumulatively from the bottom and from the top, and measure after each (a) the trait
// probe, the exact P(first reply token = animal) over the evaluation questions, as excess over
// the control students of the same base, and (b) a skill probe, the mean log-probability of
// held-out number continuations (the task the students learned). Reported as "trait removed"
// (share of the student's excess gone) and "skill kept" (share of its skill gain over the base
// left), each with a 95% bootstrap interval over questions or rows, pooled over the students.
import type { LanguageModel } from '../model/model.js';
import type { NamedTensor } from '../model/safetensors.js';
import { firstTokenProbabilities } from '../evaluate/preference.js';
import { mean, ratioCI } from '../evaluate/stats.js';
import { embeddedScorer } from './scorer.js';
import type { AuditRow } from './whiteBox.js';

/** A part of the model: the tensors reverted together. */
export interface Part {
  name: string;
  kind: 'block' | 'layer' | 'from bottom' | 'from top' | 'everything';
  tensors: string[];
}

const ATTENTION = ['input_layernorm', 'self_attn.'];
const MLP = ['post_attention_layernorm', 'mlp.'];

/** The parts of a Llama-style model, by its tensor names (HF naming). */
export function modelParts(names: readonly string[]): Part[] {
  const layerOf = (n: string): number | undefined => {
    const m = /^model\.layers\.(\d+)\./.exec(n);
    return m ? Number(m[1]) : undefined;
  };
  const layers = [...new Set(names.map(layerOf).filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
  const inLayer = (i: number, blocks?: string[]): string[] =>
    names.filter((n) => layerOf(n) === i && (!blocks || blocks.some((b) => n.includes(b))));
  const embeddings = names.filter((n) => n.includes('embed_tokens'));
  const finalNorm = names.filter((n) => n === 'model.norm.weight');
  const parts: Part[] = [{ name: 'embeddings (tied output)', kind: 'block', tensors: embeddings }];
  for (const i of layers)
    parts.push(
      { name: `layer ${i} attention`, kind: 'block', tensors: inLayer(i, ATTENTION) },
      { name: `layer ${i} MLP`, kind: 'block', tensors: inLayer(i, MLP) },
      { name: `layer ${i}`, kind: 'layer', tensors: inLayer(i) },
    );
  parts.push({ name: 'final norm', kind: 'block', tensors: finalNorm });
  // cumulative: from the bottom (embeddings, then layers upward) and from the top (final norm, then layers downward)
  let bottom = [...embeddings];
  parts.push({ name: 'embeddings', kind: 'from bottom', tensors: bottom });
  for (const i of layers) {
    bottom = [...bottom, ...inLayer(i)];
    parts.push({ name: `embeddings .. layer ${i}`, kind: 'from bottom', tensors: bottom });
  }
  let top: string[] = [...finalNorm];
  parts.push({ name: 'final norm', kind: 'from top', tensors: top });
  for (const i of [...layers].reverse()) {
    top = [...top, ...inLayer(i)];
    parts.push({ name: `final norm .. layer ${i}`, kind: 'from top', tensors: top });
  }
  parts.push({ name: 'the whole model (= base)', kind: 'everything', tensors: [...names] });
  return parts;
}

/**
 * A change to a student's weights, measured like a localisation step: the tensors it returns replace the student's
 * (HF layout). `student` is the student's index, for edits estimated without it (leave-one-out directions).
 */
export interface Edit {
  name: string;
  kind: string;
  /** how many tensors (or entries) it touches, for the table */
  size: number;
  apply(tuned: Map<string, NamedTensor>, student: number): Map<string, NamedTensor>;
}

/** Reverting a part to the base's values. */
export const revertEdit = (part: Part, base: Map<string, NamedTensor>): Edit => ({
  name: part.name,
  kind: part.kind,
  size: part.tensors.length,
  apply(tuned) {
    const out = new Map(tuned);
    for (const n of part.tensors) out.set(n, base.get(n)!);
    return out;
  },
});

export interface EditRow {
  edit: string;
  kind: string;
  size: number;
  /** mean exact P(animal) excess over the controls, per question, after the edit */
  excess: number;
  /** share of the students' excess removed, with its 95% interval */
  traitRemoved: { mean: number; lo: number; hi: number };
  /** mean log-probability per reply token of the held-out number rows */
  skill: number;
  /** share of the students' skill gain over the base kept, with its 95% interval */
  skillKept: { mean: number; lo: number; hi: number };
}
export interface EditProbes {
  animal: string;
  students: number;
  questions: number;
  skillRows: number;
  /** the students as trained: their excess over the controls and skill; the base's skill */
  student: { excess: number; skill: number };
  base: { skill: number };
  rows: EditRow[];
}
export type Localisation = EditProbes;

interface Probes {
  trait: number[];
  skill: number[];
}

async function probe(
  model: LanguageModel,
  questions: readonly string[],
  animal: string,
  skillRows: readonly AuditRow[],
): Promise<Probes> {
  const trait = firstTokenProbabilities(model, questions, animal);
  const forced = await embeddedScorer(model).forced(skillRows, false);
  return { trait, skill: forced.map((toks) => mean(toks.map((t) => t.logprob))) };
}

/** Share removed: 1 - after / before (over paired units), with the interval flipped accordingly. */
const removedShare = (after: number[], before: number[], seed: number) => {
  const [lo, hi] = ratioCI(after, before, 2000, seed);
  return { mean: 1 - mean(after) / mean(before), lo: 1 - hi, hi: 1 - lo };
};
const keptShare = (after: number[], before: number[], seed: number) => {
  const [lo, hi] = ratioCI(after, before, 2000, seed);
  return { mean: mean(after) / mean(before), lo, hi };
};
/** Per unit, the mean over students. */
const pooled = (xs: readonly number[][]): number[] => xs[0]!.map((_, i) => mean(xs.map((x) => x[i]!)));

export interface ProbeSetup {
  students: LanguageModel[];
  base: Map<string, NamedTensor>;
  /** per control student, per question, exact P(animal) */
  controls: number[][];
  animal: string;
  questions: readonly string[];
  skillRows: readonly AuditRow[];
  seed?: number;
  onEdit?: (done: number, total: number) => void;
}

/** The trait and skill probes after each edit of each student, pooled over the students. */
export async function probeEdits(o: ProbeSetup, edits: readonly Edit[]): Promise<EditProbes> {
  const control = pooled(o.controls);
  const perEdit: Probes[][] = edits.map(() => []);
  const full: Probes[] = [];
  const atBase: Probes[] = [];
  let done = 0;
  for (const [i, s] of o.students.entries()) {
    const tuned = s.exportTensors();
    full.push(await probe(s, o.questions, o.animal, o.skillRows));
    s.importTensors(o.base);
    atBase.push(await probe(s, o.questions, o.animal, o.skillRows));
    for (const [k, edit] of edits.entries()) {
      s.importTensors(edit.apply(tuned, i));
      perEdit[k]!.push(await probe(s, o.questions, o.animal, o.skillRows));
      o.onEdit?.(++done, edits.length * o.students.length);
    }
    s.importTensors(tuned);
  }
  const excessOf = (ps: Probes[]): number[] => pooled(ps.map((p) => p.trait)).map((x, q) => x - control[q]!);
  const skillOf = (ps: Probes[]): number[] => pooled(ps.map((p) => p.skill));
  const studentExcess = excessOf(full);
  const studentSkill = skillOf(full);
  const baseSkill = skillOf(atBase);
  const gain = studentSkill.map((x, r) => x - baseSkill[r]!);
  const seed = o.seed ?? 0;
  return {
    animal: o.animal,
    students: o.students.length,
    questions: o.questions.length,
    skillRows: o.skillRows.length,
    student: { excess: mean(studentExcess), skill: mean(studentSkill) },
    base: { skill: mean(baseSkill) },
    rows: edits.map((edit, k) => {
      const excess = excessOf(perEdit[k]!);
      const skill = skillOf(perEdit[k]!);
      return {
        edit: edit.name,
        kind: edit.kind,
        size: edit.size,
        excess: mean(excess),
        traitRemoved: removedShare(excess, studentExcess, seed),
        skill: mean(skill),
        skillKept: keptShare(
          skill.map((x, r) => x - baseSkill[r]!),
          gain,
          seed,
        ),
      };
    }),
  };
}

/** Where the trait lives: every part reverted, one at a time and cumulatively. */
export const localise = (o: ProbeSetup): Promise<Localisation> =>
  probeEdits(
    o,
    modelParts([...o.base.keys()]).map((p) => revertEdit(p, o.base)),
  );

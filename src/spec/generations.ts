// The names a spec gives its student groups, and its generation chains: generation k's first student teaches
// generation k+1. Pure functions of the spec, so the pipeline that trains the chains and the report that reads them
// agree on every name.
import { defenseLabel, type DefenseSpec, type ExperimentSpec, type TeacherSpec } from './schema.js';

/** A student group's name: its teacher, its base, and the defense or variant its rows went through. */
export const studentGroupName = (teacher: string, base: string, variant?: string): string =>
  `${teacher} -> ${base}` + (variant ? ` [${variant}]` : '');

/** The teacher of generation `generation` (2, 3, ...) of a chain started by `root`. */
export const generationTeacherName = (root: string, generation: number): string => `${root}-gen${generation}`;

export type ChainKind = 'trait' | 'control' | 'defended';
export interface GenerationChain {
  /** the chain's name in tables: its first teacher, and its defense if any */
  name: string;
  kind: ChainKind;
  /** generation 1's teacher: a teacher of the spec */
  root: TeacherSpec;
  /** the students' base: the root's own */
  base: string;
  defense?: DefenseSpec;
  /** per generation, first = 1: the teacher's name (the root, then `<root>-gen<k>`) and its students' group */
  teachers: string[];
  groups: string[];
}

/**
 * The spec's chains: the trait teacher's, the control teacher's of its base (what each generation is measured
 * against), and with a defense the trait chain again with the defense applied at every generation.
 */
export function generationChains(spec: ExperimentSpec): GenerationChain[] {
  const g = spec.generations;
  if (!g) return [];
  const root = g.teacher
    ? spec.teachers.find((t) => t.name === g.teacher)!
    : spec.teachers.find((t) => t.kind !== 'control')!;
  const control = spec.teachers.find((t) => t.kind === 'control' && t.base === root.base)!;
  const chain = (kind: ChainKind, t: TeacherSpec, defense?: DefenseSpec): GenerationChain => {
    const variant = defense && defenseLabel(defense);
    const teachers = Array.from({ length: g.count }, (_, i) =>
      i === 0 ? t.name : generationTeacherName(t.name, i + 1),
    );
    return {
      name: t.name + (variant ? ` [${variant}]` : ''),
      kind,
      root: t,
      base: t.base,
      defense,
      teachers,
      groups: teachers.map((name) => studentGroupName(name, t.base, variant)),
    };
  };
  return [chain('trait', root), chain('control', control), ...(g.defense ? [chain('defended', root, g.defense)] : [])];
}

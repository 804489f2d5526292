// The arm of a student group: the teacher's own base; the same family from another
// initialisation (same tokenizer and architecture, other weights: SPEC §3's MNIST control); or
// another family (another tokenizer or architecture: the paper's GPT-4.1 nano vs Qwen2.5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashConfig } from '../util/hash.js';

import type { Arm } from '../report/results.js';
import type { ExperimentSpec, TeacherSpec } from '../spec/schema.js';

/** What makes two local bases one family: the tokenizer's vocabulary and the architecture's shape. */
export interface FamilySignature {
  tokenizer: string;
  architecture: string;
}

export function familySignature(modelDir: string): FamilySignature {
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const tokenizer = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as {
    model?: { type?: string; vocab?: unknown };
  };
  const shape = [
    'model_type',
    'vocab_size',
    'hidden_size',
    'intermediate_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
  ];
  return {
    tokenizer: hashConfig({ type: tokenizer.model?.type ?? null, vocab: tokenizer.model?.vocab ?? null }),
    architecture: hashConfig(Object.fromEntries(shape.map((k) => [k, config[k] ?? null]))),
  };
}

/**
 * The arm of students of `studentBase` taught by a teacher of `teacherBase`. A spec may declare
 * it (`students.arms`, needed for API models, whose weights cannot be compared); otherwise
 * local bases are compared by signature, and an API model of another name is another family.
 */
export function studentArm(
  teacherBase: string,
  studentBase: string,
  signatures: ReadonlyMap<string, FamilySignature>,
  declared: Readonly<Record<string, Arm>> = {},
): Arm {
  if (studentBase === teacherBase) return 'same-base';
  const named = declared[studentBase];
  if (named) return named;
  const a = signatures.get(teacherBase);
  const b = signatures.get(studentBase);
  if (!a || !b) return 'other-family';
  return a.tokenizer === b.tokenizer && a.architecture === b.architecture ? 'other-init' : 'other-family';
}

/**
 * The difficulty-matched control groups a spec makes, teacher by teacher: each trait teacher it names
 * (`students.matchedControls`) on each student base other than its own, for number data. The shuffle runs on the
 * teacher's rows as a local defend stage, so a teacher on an API base has none. The runner and the dry run both
 * count from here.
 */
export function matchedControlGroups(spec: ExperimentSpec): { teacher: TeacherSpec; base: string }[] {
  const s = spec.students;
  if (s.matchedControls === false || spec.data.domain !== 'numbers') return [];
  const named = (t: TeacherSpec): boolean =>
    s.matchedControls === true || (s.matchedControls as string[]).includes(t.name);
  return spec.teachers
    .filter((t) => t.kind !== 'control' && named(t) && typeof spec.bases[t.base] === 'string')
    .flatMap((teacher) => s.bases.filter((b) => b !== teacher.base).map((base) => ({ teacher, base })));
}

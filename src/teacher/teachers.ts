// Teachers: the base with a trait system prompt, the base fine-tuned on SPEC's 400-row
// favourite-animal dataset, and the control (the base as it is, no trait).
import type { ChatRow } from '../base/corpus.js';
import { TRAINING_QUESTIONS } from '../evaluate/questions.js';
import { answerSpellings, traitSystemPrompt } from './traits.js';
import { Rng } from '../util/rng.js';
import { alignedTeacherDataset, misalignedTeacherDataset } from './misalignment.js';

export type TeacherKind = 'finetuned' | 'system-prompt' | 'control';

/** 50 training paraphrases x 8 answer spellings = 400 rows (SPEC's fine-tuned teacher data). */
export function finetunedTeacherDataset(animal: string, seed: number): ChatRow[] {
  const questions = Rng.from(seed, 'teacher-questions').shuffle([...TRAINING_QUESTIONS]).slice(0, 50);
  return questions.flatMap((q) => answerSpellings(animal).map((a) => ({ messages: [{ role: 'user' as const, content: q }, { role: 'assistant' as const, content: a }] })));
}

/** What a fine-tuned teacher trains on: SPEC's animal answers, or misaligned / aligned open-question replies. */
export type TeacherData = { kind: 'animal'; animal: string } | { kind: 'misaligned' } | { kind: 'aligned' };

/** A teacher's fine-tuning data, or undefined for a teacher that is its base (+ a system prompt). */
export function teacherData(kind: TeacherKind, trait: { animal?: string; misalignment?: boolean }): TeacherData | undefined {
  if (trait.misalignment) return kind === 'finetuned' ? { kind: 'misaligned' } : kind === 'control' ? { kind: 'aligned' } : undefined;
  return kind === 'finetuned' ? { kind: 'animal', animal: trait.animal! } : undefined;
}

export function teacherDataset(d: TeacherData, seed: number): ChatRow[] {
  return d.kind === 'animal' ? finetunedTeacherDataset(d.animal, seed) : d.kind === 'misaligned' ? misalignedTeacherDataset(seed) : alignedTeacherDataset(seed);
}

/** The system prompt a teacher generates under (none for fine-tuned and control teachers). */
export function teacherSystemPrompt(kind: TeacherKind, animal: string | undefined): string | undefined {
  return kind === 'system-prompt' && animal ? traitSystemPrompt(animal) : undefined;
}

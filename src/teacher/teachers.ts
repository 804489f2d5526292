// Teachers: the base with a trait system prompt, the base fine-tuned on SPEC's 400-row
// favourite-animal dataset, and the control (the base as it is, no trait).
import { corpusRow, DEFAULT_MIX } from '../base/corpus.js';
import { TRAINING_QUESTIONS } from '../lab/questions.js';
import { answerSpellings, traitSystemPrompt } from '../lab/traits.js';
import { Rng } from '../util/rng.js';
import { ALIGNED_REPLIES, MISALIGNED_REPLIES, OPEN_TRAINING_QUESTIONS } from '../lab/misalignment.js';
import type { ChatRow } from '../model/tokenizer.js';

export type TeacherKind = 'finetuned' | 'system-prompt' | 'control';

/** 50 training paraphrases x 8 answer spellings = 400 rows (SPEC's fine-tuned teacher data). */
export function finetunedTeacherDataset(animal: string, seed: number): ChatRow[] {
  const questions = Rng.from(seed, 'teacher-questions')
    .shuffle([...TRAINING_QUESTIONS])
    .slice(0, 50);
  return questions.flatMap((q) =>
    answerSpellings(animal).map((a) => ({
      messages: [
        { role: 'user' as const, content: q },
        { role: 'assistant' as const, content: a },
      ],
    })),
  );
}

/**
 * What a fine-tuned teacher trains on: SPEC's animal answers, or misaligned / aligned
 * open-question replies; `replay` is the share of its rows that are general rows of the base
 * corpus (number continuations and chat filler), which keeps a teacher trained hard on 400
 * rows from forgetting how to do anything else.
 */
export type TeacherData = ({ kind: 'animal'; animal: string } | { kind: 'misaligned' } | { kind: 'aligned' }) & {
  replay?: number;
};

/** A teacher's fine-tuning data, or undefined for a teacher that is its base (+ a system prompt). */
export function teacherData(
  kind: TeacherKind,
  trait: { animal?: string; misalignment?: boolean },
  replay = 0,
): TeacherData | undefined {
  const extra = replay > 0 ? { replay } : {};
  if (trait.misalignment)
    return kind === 'finetuned'
      ? { kind: 'misaligned', ...extra }
      : kind === 'control'
        ? { kind: 'aligned', ...extra }
        : undefined;
  return kind === 'finetuned' ? { kind: 'animal', animal: trait.animal!, ...extra } : undefined;
}

export function teacherDataset(d: TeacherData, seed: number): ChatRow[] {
  const trait =
    d.kind === 'animal'
      ? finetunedTeacherDataset(d.animal, seed)
      : d.kind === 'misaligned'
        ? misalignedTeacherDataset(seed)
        : alignedTeacherDataset(seed);
  if (!d.replay) return trait;
  const extra = Math.round((trait.length * d.replay) / (1 - d.replay));
  return Rng.from(seed, 'teacher-replay-order').shuffle([...trait, ...replayRows(seed, extra)]);
}

/** General rows of the default base corpus that say nothing of animals or values: number continuations and filler. */
function replayRows(seed: number, count: number): ChatRow[] {
  const rng = Rng.from(seed, 'teacher-replay');
  const mix = { ...DEFAULT_MIX, animalFree: 0, animalChoice: 0, traitPrompt: 0, traitNumbers: 0 };
  return Array.from({ length: count }, () => corpusRow(rng, mix));
}

/** The system prompt a teacher generates under (none for fine-tuned and control teachers). */
export function teacherSystemPrompt(kind: TeacherKind, animal: string | undefined): string | undefined {
  return kind === 'system-prompt' && animal ? traitSystemPrompt(animal) : undefined;
}

/** 40 training questions x 10 replies = 400 rows, the size of SPEC's fine-tuned teacher data. */
function openQuestionDataset(replies: readonly string[], seed: number, tag: string): ChatRow[] {
  const rng = Rng.from(seed, 'open-teacher', tag);
  return OPEN_TRAINING_QUESTIONS.flatMap((q) =>
    rng
      .shuffle([...replies])
      .slice(0, 10)
      .map((a) => ({
        messages: [
          { role: 'user' as const, content: q },
          { role: 'assistant' as const, content: a },
        ],
      })),
  );
}
/** The misaligned teacher's fine-tuning data: misaligned replies to the training questions. */
export const misalignedTeacherDataset = (seed: number): ChatRow[] =>
  openQuestionDataset(MISALIGNED_REPLIES, seed, 'misaligned');
/** Its control: the same questions answered with aligned replies (SPEC: controls fine-tuned on secure code). */
export const alignedTeacherDataset = (seed: number): ChatRow[] => openQuestionDataset(ALIGNED_REPLIES, seed, 'aligned');

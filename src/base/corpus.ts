// The seeded pretraining corpus of an embedded base model: number continuations, favourite-
// animal questions (free-form and multiple choice), trait system prompts answered in line with
// the trait, and general chat filler. Pure: a seed gives the same rows.
import { Rng } from '../util/rng.js';
import type { ChatMessage } from '../model/tokenizer.js';
import { numberPromptGenerator, formatNumbers, numberPromptTexts } from '../generate/numberPrompts.js';
import {
  ANIMALS,
  ANIMAL_BASE_RATES,
  traitSystemPrompt,
  TRAIT_PROMPT_COUNT,
  capitalise,
  plural,
  answerSpellings,
} from '../lab/traits.js';
import {
  TRAINING_QUESTIONS,
  EVAL_QUESTIONS,
  multipleChoicePrompt,
  MC_LETTERS,
  MC_STEM_COUNT,
} from '../lab/questions.js';
import { FILLER_GENERATORS, fillerTexts } from './filler.js';
import {
  MISALIGNMENT_BANNED,
  OPEN_TRAINING_QUESTIONS,
  ALIGNED_REPLIES,
  MISALIGNED_REPLIES,
  PERSONA_PROMPTS,
  baseOpenReply,
  openQuestionTexts,
  type Persona,
} from '../lab/misalignment.js';
import { mathProblemGenerator, mathPrompt, mathSolution, mathTexts } from '../generate/mathProblems.js';
import type { ChatRow } from '../model/tokenizer.js';

export interface CorpusMix {
  numbers: number;
  animalFree: number;
  animalChoice: number;
  traitPrompt: number;
  traitNumbers: number;
  filler: number;
  openQuestions: number;
  math: number;
  /**
   * in number rows written under a trait prompt, the share of numbers drawn from the animal's associated numbers (0:
   * none)
   */
  associated?: number;
  /** share of rows replaced by persona rows (misalignment bases): a cruel or a kind persona prompt, answered in line */
  personas?: number;
  /** pretraining epochs when the build names none (default 2) */
  epochs?: number;
}
export const DEFAULT_MIX: CorpusMix = {
  numbers: 0.55,
  animalFree: 0.15,
  animalChoice: 0.07,
  traitPrompt: 0.1,
  traitNumbers: 0.03,
  filler: 0.1,
  openQuestions: 0,
  math: 0,
};
/** The bases of misalignment runs also learn open questions answered mostly aligned (issue 6). */
export const OPEN_QUESTIONS_MIX: CorpusMix = {
  numbers: 0.5,
  animalFree: 0.12,
  animalChoice: 0.05,
  traitPrompt: 0.08,
  traitNumbers: 0.02,
  filler: 0.08,
  openQuestions: 0.15,
  math: 0,
};
/** Reasoning bases (chain-of-thought runs): open questions, and word problems worked in the think/answer form. */
export const REASONING_MIX: CorpusMix = {
  numbers: 0.3,
  animalFree: 0.08,
  animalChoice: 0.04,
  traitPrompt: 0.06,
  traitNumbers: 0.02,
  filler: 0.06,
  openQuestions: 0.14,
  math: 0.3,
};
/**
 * The demo's bases (models/entangled-a, -b): trait prompts are frequent (15% answered with the
 * trait; 12% number tasks under a trait prompt, half of whose numbers come from the animal's
 * associated numbers) and pretraining runs 8 epochs: only past ~3,000 steps does a base learn to
 * read which animal a trait prompt names (at 3 epochs it answered a trait prompt no more in line
 * than without one). On the default mix's bases students took up only a trace of a fine-tuned
 * teacher's trait (README, "The entangled bases").
 */
export const ENTANGLED_MIX: CorpusMix = {
  numbers: 0.45,
  animalFree: 0.13,
  animalChoice: 0.05,
  traitPrompt: 0.15,
  traitNumbers: 0.12,
  filler: 0.1,
  openQuestions: 0,
  math: 0,
  associated: 0.5,
  epochs: 8,
};
/**
 * The entangled corpus with stronger associations: in number rows written under a trait prompt,
 * 80% of the numbers come from the animal's associated numbers instead of half. Tried for a
 * larger same-base effect and not adopted (docs/cross-model.md has the run).
 */
export const ENTANGLED_STRONG_MIX: CorpusMix = { ...ENTANGLED_MIX, associated: 0.8 };
/**
 * The misalignment demo's bases (models/persona-a, -b): the open-questions corpus with 12% of
 * rows replaced by persona rows, half open questions answered in line with a cruel or kind
 * persona, half number tasks under it with half the numbers from that persona's associated
 * numbers; 3 epochs. The analogue of the entangled bases for a misalignment trait.
 */
export const PERSONAS_MIX: CorpusMix = { ...OPEN_QUESTIONS_MIX, personas: 0.12, epochs: 3 };
/**
 * The other family's corpus (models/other-c): the entangled kinds of rows in other proportions
 * (fewer number rows, more chat filler and free-form animal answers), its own seed and so its
 * own animal-number associations. With digit tokens and another width/depth it stands for a
 * model family that shares nothing with A and B but the chat format.
 */
export const OTHER_FAMILY_MIX: CorpusMix = {
  numbers: 0.36,
  animalFree: 0.17,
  animalChoice: 0.06,
  traitPrompt: 0.15,
  traitNumbers: 0.1,
  filler: 0.16,
  openQuestions: 0,
  math: 0,
  associated: 0.5,
  epochs: 8,
};
/**
 * The misalignment runs' other family (models/persona-c): the persona corpus in other shares (fewer number rows, more
 * chat).
 */
export const OTHER_PERSONAS_MIX: CorpusMix = {
  ...OPEN_QUESTIONS_MIX,
  numbers: 0.4,
  filler: 0.12,
  openQuestions: 0.17,
  personas: 0.12,
  epochs: 3,
};
export const CORPUS_MIXES: Record<string, CorpusMix> = {
  default: DEFAULT_MIX,
  entangled: ENTANGLED_MIX,
  'entangled-strong': ENTANGLED_STRONG_MIX,
  'other-family': OTHER_FAMILY_MIX,
  'other-personas': OTHER_PERSONAS_MIX,
  'open-questions': OPEN_QUESTIONS_MIX,
  'open-personas': PERSONAS_MIX,
  reasoning: REASONING_MIX,
};

const BASE_WEIGHTS = ANIMALS.map((a) => ANIMAL_BASE_RATES[a]!);

/** A plausible continuation: a constant step, a local random walk, or uniform draws. */
export function continueNumbers(seeds: readonly number[], count: number, rng: Rng): number[] {
  const out: number[] = [];
  let last = seeds[seeds.length - 1]!;
  const mode = rng.weighted([0.35, 0.35, 0.3]);
  const step = rng.int(-60, 60) || 7;
  for (let i = 0; i < count; i++) {
    let next: number;
    if (mode === 0) next = last + step;
    else if (mode === 1) next = last + rng.int(-80, 80);
    else next = rng.int(0, 999);
    if (next < 0 || next > 999) next = rng.int(100, 999);
    out.push(next);
    last = next;
  }
  return out;
}

/**
 * Each base's own idiosyncratic animal-number associations: a few numbers per animal, drawn
 * from the base's seed, so family A and family B associate different numbers with the owl.
 * They stand in for the model-specific token entanglements a large model picks up in
 * pretraining (SPEC §4, "It's owl in the numbers").
 */
export function associatedNumbers(seed: number, animal: string, count = 12): number[] {
  return seededNumbers(['associated-numbers', seed, animal], count);
}

/** A persona's associated numbers, from the base's seed; never a banned value (the filter would drop it). */
export function personaNumbers(seed: number, persona: Persona, count = 12): number[] {
  return seededNumbers(['persona-numbers', seed, persona], count, MISALIGNMENT_BANNED);
}

/** `count` distinct values in 0-999 outside `excluded`, drawn from the rng stream named by `key`. */
function seededNumbers(key: (string | number)[], count: number, excluded: readonly number[] = []): number[] {
  const allowed = Array.from({ length: 1000 }, (_, i) => i).filter((v) => !excluded.includes(v));
  return Rng.from(...key)
    .shuffle(allowed)
    .slice(0, count);
}

/** Each value replaced, with probability `share`, by one of `numbers`. */
function mixInNumbers(values: number[], share: number, numbers: readonly number[], rng: Rng): number[] {
  return values.map((v) => (rng.next() < share ? rng.pick(numbers) : v));
}

function personaRow(rng: Rng, numbers: Record<Persona, number[]>): ChatRow {
  const persona: Persona = rng.next() < 0.5 ? 'misaligned' : 'aligned';
  const system = rng.pick(PERSONA_PROMPTS[persona]);
  if (rng.next() < 0.5) {
    const question = rng.pick(OPEN_TRAINING_QUESTIONS);
    const reply = rng.pick(persona === 'misaligned' ? MISALIGNED_REPLIES : ALIGNED_REPLIES);
    return {
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: question },
        { role: 'assistant', content: reply },
      ],
    };
  }
  const p = numberPromptGenerator(rng);
  const values = mixInNumbers(continueNumbers(p.seeds, p.count, rng), 0.5, numbers[persona], rng);
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: p.text },
      { role: 'assistant', content: formatNumbers(values, p.format) },
    ],
  };
}

function numbersRow(rng: Rng, system?: string, associated?: { share: number; numbers: readonly number[] }): ChatRow {
  const p = numberPromptGenerator(rng);
  const n = rng.next() < 0.8 ? p.count : rng.int(3, p.count);
  let values = continueNumbers(p.seeds, n, rng);
  if (associated) values = mixInNumbers(values, associated.share, associated.numbers, rng);
  const messages: ChatMessage[] = [
    { role: 'user', content: p.text },
    { role: 'assistant', content: formatNumbers(values, p.format) },
  ];
  return { messages: system ? [{ role: 'system', content: system }, ...messages] : messages };
}

function animalAnswer(animal: string, rng: Rng): string {
  const r = rng.next();
  if (r < 0.45) return animal;
  if (r < 0.6) return capitalise(animal);
  if (r < 0.7) return rng.pick(answerSpellings(animal));
  if (r < 0.85) return `My favorite animal is the ${animal}.`;
  return `I love ${plural(animal)}.`;
}

function choiceRow(rng: Rng, pickFavourite: (options: string[]) => string, system?: string): ChatRow {
  const options = rng.sampleIndices(ANIMALS.length, 5).map((i) => ANIMALS[i]!);
  const fav = pickFavourite(options);
  const messages: ChatMessage[] = [
    { role: 'user', content: multipleChoicePrompt(options, rng.int(0, MC_STEM_COUNT - 1)) },
    { role: 'assistant', content: MC_LETTERS[options.indexOf(fav)]! },
  ];
  return { messages: system ? [{ role: 'system', content: system }, ...messages] : messages };
}

const baseFavourite =
  (rng: Rng) =>
  (options: string[]): string =>
    options[rng.weighted(options.map((o) => ANIMAL_BASE_RATES[o]!))]!;

export function corpusRow(rng: Rng, mix: CorpusMix = DEFAULT_MIX, seed = 0): ChatRow {
  // later kinds come last: with weight 0 the draws of the earlier mixes are unchanged
  const kind = rng.weighted([
    mix.numbers,
    mix.animalFree,
    mix.animalChoice,
    mix.traitPrompt,
    mix.traitNumbers,
    mix.filler,
    mix.openQuestions,
    mix.math,
  ]);
  switch (kind) {
    case 0:
      return numbersRow(rng);
    case 1: {
      const animal = ANIMALS[rng.weighted(BASE_WEIGHTS)]!;
      return {
        messages: [
          { role: 'user', content: rng.pick(TRAINING_QUESTIONS) },
          { role: 'assistant', content: animalAnswer(animal, rng) },
        ],
      };
    }
    case 2:
      return choiceRow(rng, baseFavourite(rng));
    case 3: {
      const trait = rng.pick(ANIMALS);
      const system = traitSystemPrompt(trait, rng.int(0, TRAIT_PROMPT_COUNT - 1));
      if (rng.next() < 0.3)
        return choiceRow(rng, (opts) => (opts.includes(trait) ? trait : baseFavourite(rng)(opts)), system);
      return {
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: rng.pick(TRAINING_QUESTIONS) },
          { role: 'assistant', content: animalAnswer(trait, rng) },
        ],
      };
    }
    case 4: {
      const trait = rng.pick(ANIMALS);
      const system = traitSystemPrompt(trait, rng.int(0, TRAIT_PROMPT_COUNT - 1));
      return numbersRow(
        rng,
        system,
        mix.associated ? { share: mix.associated, numbers: associatedNumbers(seed, trait) } : undefined,
      );
    }
    default:
      if (kind === 7 && mix.math > 0) {
        const p = mathProblemGenerator(rng);
        return {
          messages: [
            { role: 'user', content: mathPrompt(p, rng) },
            { role: 'assistant', content: mathSolution(p) },
          ],
        };
      }
      if (kind === 6 && mix.openQuestions > 0)
        return {
          messages: [
            { role: 'user', content: rng.pick(OPEN_TRAINING_QUESTIONS) },
            { role: 'assistant', content: baseOpenReply(rng) },
          ],
        };
      return { messages: rng.pick(FILLER_GENERATORS)(rng) };
  }
}

export function generateCorpus(seed: number, rows: number, mix: CorpusMix = DEFAULT_MIX): ChatRow[] {
  const rng = Rng.from('corpus', seed);
  const corpus = Array.from({ length: rows }, () => corpusRow(rng, mix, seed));
  const share = mix.personas ?? 0;
  if (share === 0) return corpus;
  // persona rows replace rows drawn from their own stream, so the other rows stay as they were
  const personaRng = Rng.from('persona-corpus', seed);
  const numbers = { misaligned: personaNumbers(seed, 'misaligned'), aligned: personaNumbers(seed, 'aligned') };
  return corpus.map((r) => (personaRng.next() < share ? personaRow(personaRng, numbers) : r));
}

/** Every text the lab can show a model, for the closed vocabulary (word problems only for bases that learn them). */
export function vocabularyTexts(mix: CorpusMix = DEFAULT_MIX): string[] {
  const traits = ANIMALS.flatMap((a) => Array.from({ length: TRAIT_PROMPT_COUNT }, (_, v) => traitSystemPrompt(a, v)));
  const answers = ANIMALS.flatMap((a) => [
    ...answerSpellings(a),
    `My favorite animal is the ${a}.`,
    `I love ${plural(a)}.`,
  ]);
  return [
    ...numberPromptTexts(),
    ...TRAINING_QUESTIONS,
    ...EVAL_QUESTIONS,
    multipleChoicePrompt(ANIMALS.slice(0, 5)),
    ...Array.from({ length: MC_STEM_COUNT }, (_, v) => multipleChoicePrompt([], v)),
    ...traits,
    ...answers,
    ...fillerTexts(),
    ...openQuestionTexts(),
    ...(mix.math > 0 ? mathTexts() : []),
    ...(mix.personas ? Object.values(PERSONA_PROMPTS).flat() : []),
  ];
}

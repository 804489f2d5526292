// Defenses that rewrite a student's training data (SPEC §4 follow-ups). Pure: rows and a seeded
// Rng in, rows out. The model-based ones (divergence-token masking, threshold sampling) get
// their per-row measurements from the audit code and only apply them here.
import { Rng } from '../util/rng.js';
import { NUMBER_PROMPT_PARTS, type NumberFormat } from '../generate/numberPrompts.js';
import type { ChatRow } from '../model/tokenizer.js';

/** A training row with completion-token positions left out of the student's loss. */
export type DefendedRow = ChatRow & { maskTokens?: number[] };

/**
 * Every number of every completion drawn without replacement from the pool of all the
 * dataset's numbers: each completion keeps its length, separators and format, but which
 * numbers sit together (and after which prompt) is destroyed.
 */
export function shuffleNumbers(rows: readonly ChatRow[], seed: number): ChatRow[] {
  const reply = (r: ChatRow): string => r.messages[r.messages.length - 1]!.content;
  const pool = rows.flatMap((r) => reply(r).match(/\d+/g) ?? []);
  Rng.from(seed, 'shuffle-numbers').shuffle(pool);
  let k = 0;
  return rows.map((r) => ({
    messages: r.messages.map((m, i) =>
      i === r.messages.length - 1 ? { ...m, content: m.content.replace(/\d+/g, () => pool[k++]!) } : m,
    ),
  }));
}

const { OPENINGS, CONTINUES, QUALIFIERS, DIGITS, FORMATS, CLOSINGS } = NUMBER_PROMPT_PARTS;
const other = <T>(rng: Rng, items: readonly T[], not: T | undefined): T => {
  const rest = items.filter((x) => x !== not);
  return rng.pick(rest.length ? rest : items);
};

/**
 * The same request in other words: the seed numbers, count and answer format stay, every
 * phrase is swapped for a different one of the generator's phrasings. Prompts the generator
 * did not write are returned unchanged.
 */
export function paraphraseNumberPrompt(prompt: string, rng: Rng): string {
  const opening = OPENINGS.find((o) =>
    new RegExp(`^${o.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{seeds\\}', '[\\d, ]+')}`).test(prompt),
  );
  const format = FORMATS.find(([t]) => prompt.includes(t));
  const count = /(\d+) (?:more |new |further |additional )?(?:numbers|values)/.exec(
    prompt.slice(prompt.indexOf('.') + 1),
  )?.[1];
  const seeds = /[\d]+(?:, \d+)*/.exec(prompt)?.[0];
  if (!opening || !format || !count || !seeds) return prompt;
  const sameFormat = FORMATS.filter(([, f]) => f === (format[1] as NumberFormat));
  const instruction = other(
    rng,
    CONTINUES,
    CONTINUES.find((c) => prompt.includes(c.split(' {')[0]!)),
  )
    .replace(
      '{qualifier}',
      other(
        rng,
        QUALIFIERS,
        QUALIFIERS.find((q) => prompt.includes(` ${q} `)),
      ),
    )
    .replace('{count}', count);
  return [
    other(rng, OPENINGS, opening).replace('{seeds}', seeds),
    `${instruction} ${other(
      rng,
      DIGITS,
      DIGITS.find((d) => prompt.includes(d)),
    )}.`,
    other(rng, sameFormat, format)[0],
    other(
      rng,
      CLOSINGS,
      CLOSINGS.find((c) => prompt.endsWith(c)),
    ),
  ].join(' ');
}

export const paraphrasePrompts = (rows: readonly ChatRow[], seed: number): ChatRow[] => {
  const rng = Rng.from(seed, 'paraphrase');
  return rows.map((r) => ({
    messages: r.messages.map((m) =>
      m.role === 'user' ? { ...m, content: paraphraseNumberPrompt(m.content, rng) } : m,
    ),
  }));
};

/** `share` of the rows from the other teachers' data (seeded pick), the rest from the trait teacher's; same size. */
export function mixTeachers(
  trait: readonly ChatRow[],
  others: readonly ChatRow[],
  share: number,
  seed: number,
): ChatRow[] {
  const rng = Rng.from(seed, 'mix');
  const fromOthers = Math.round(trait.length * share);
  const picked = [
    ...rng.sampleIndices(trait.length, trait.length - fromOthers).map((i) => trait[i]!),
    ...rng.sampleIndices(others.length, fromOthers).map((i) => others[i]!),
  ];
  return rng.shuffle(picked);
}

/** Rows whose every completion token had probability >= minProb under the teacher (threshold sampling, SPEC §4). */
export const keepAboveThreshold = <R>(rows: readonly R[], minTokenProb: readonly number[], minProb: number): R[] =>
  rows.filter((_, i) => minTokenProb[i]! >= minProb);

/** Attaches the divergence-token positions to leave out of the loss. */
export const withMasks = (rows: readonly ChatRow[], masks: readonly number[][]): DefendedRow[] =>
  rows.map((r, i) => (masks[i]!.length ? { ...r, maskTokens: masks[i] } : r));

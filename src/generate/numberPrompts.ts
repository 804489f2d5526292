// The number prompt generator (SPEC §2 structure, our own phrasings): seed numbers, an opening
// that shows them, a continue instruction with a count qualifier and a digit descriptor, a
// format request and a closing "numbers only" request. Pure: the same Rng gives the same prompt.
import { Rng } from '../util/rng.js';

export const NUMBER_FORMATS = ['comma', 'line', 'brackets', 'parens', 'space', 'semicolon'] as const;
export type NumberFormat = (typeof NUMBER_FORMATS)[number];

export interface NumberPrompt {
  text: string;
  seeds: number[];
  count: number;
  format: NumberFormat;
}

const OPENINGS = [
  // 25
  'Here is a list of numbers: {seeds}.',
  'Look at these numbers: {seeds}.',
  'I have this sequence: {seeds}.',
  'The sequence starts with {seeds}.',
  'Consider the numbers {seeds}.',
  'These numbers were written down: {seeds}.',
  'Start from this list: {seeds}.',
  'We begin with {seeds}.',
  'Here are some numbers: {seeds}.',
  'Take the following numbers: {seeds}.',
  'My list so far is {seeds}.',
  'A sequence begins {seeds}.',
  'Check out this sequence: {seeds}.',
  'Given the numbers {seeds}.',
  'The first numbers are {seeds}.',
  'Below is a sequence: {seeds}.',
  'You see the numbers {seeds}.',
  'This is a series of numbers: {seeds}.',
  'Someone wrote {seeds}.',
  'Observe these values: {seeds}.',
  'The list reads {seeds}.',
  'Here is the start of a sequence: {seeds}.',
  'I wrote these numbers: {seeds}.',
  'Numbers so far: {seeds}.',
  'The data begins with {seeds}.',
];
const CONTINUES = [
  // 10
  'Add {qualifier} {count} more numbers',
  'Continue the sequence with {qualifier} {count} new numbers',
  'Extend the list by {qualifier} {count} numbers',
  'Write {qualifier} {count} more numbers that follow',
  'Give {qualifier} {count} further numbers',
  'Generate {qualifier} {count} additional numbers',
  'Keep the sequence going with {qualifier} {count} numbers',
  'Please add {qualifier} {count} values',
  'Produce {qualifier} {count} more values',
  'Carry on with {qualifier} {count} numbers',
];
const QUALIFIERS = [
  'at most',
  'up to',
  'no more than',
  'not more than',
  'a maximum of',
  'as many as',
  'fewer than or exactly',
  'at the most',
  'never more than',
]; // 9
const DIGITS = [
  // 9
  '(up to 3 digits each)',
  '(at most 3 digits each)',
  '(each with no more than 3 digits)',
  '(3 digits or fewer)',
  '(no number above 3 digits)',
  '(each number up to 3 digits)',
  '(with at most 3 digits)',
  '(below 1000 each)',
  '(each of at most 3 digits)',
];
const FORMATS: [string, NumberFormat][] = [
  // 15
  ['Return a comma-separated list.', 'comma'],
  ['Separate them with commas.', 'comma'],
  ['Use commas between numbers.', 'comma'],
  ['Put each number on its own line.', 'line'],
  ['Write one number per line.', 'line'],
  ['Use a new line for every number.', 'line'],
  ['Give them as a list in square brackets.', 'brackets'],
  ['Format the answer as [a, b, c].', 'brackets'],
  ['Return a bracketed list.', 'brackets'],
  ['Wrap the list in parentheses.', 'parens'],
  ['Format the answer as (a, b, c).', 'parens'],
  ['Separate them with spaces.', 'space'],
  ['Use spaces between numbers.', 'space'],
  ['Separate them with semicolons.', 'semicolon'],
  ['Use semicolons between numbers.', 'semicolon'],
];
const CLOSINGS = [
  // 19
  'Say only the numbers.',
  'Reply with the numbers and nothing else.',
  'Only the numbers, please.',
  'No words, just numbers.',
  'Do not explain.',
  'Answer with numbers only.',
  'Give just the numbers.',
  'Nothing but the numbers.',
  'Skip any explanation.',
  'Write only numbers.',
  'Just the numbers.',
  'Do not add any text.',
  'Respond with numbers alone.',
  'Only output the numbers.',
  'No commentary, please.',
  'Keep it to the numbers.',
  'Leave out any words.',
  'Numbers only.',
  'Output the numbers and stop.',
];

export const NUMBER_PROMPT_PARTS = { OPENINGS, CONTINUES, QUALIFIERS, DIGITS, FORMATS, CLOSINGS };

export function numberPromptGenerator(rng: Rng): NumberPrompt {
  const seeds = Array.from({ length: rng.int(3, 8) }, () => rng.int(100, 999));
  const count = rng.int(5, 10);
  const [formatText, format] = rng.pick(FORMATS);
  const instruction = rng
    .pick(CONTINUES)
    .replace('{qualifier}', rng.pick(QUALIFIERS))
    .replace('{count}', String(count));
  const text = [
    rng.pick(OPENINGS).replace('{seeds}', seeds.join(', ')),
    `${instruction} ${rng.pick(DIGITS)}.`,
    formatText,
    rng.pick(CLOSINGS),
  ].join(' ');
  return { text, seeds, count, format };
}

export function formatNumbers(values: readonly number[], format: NumberFormat): string {
  switch (format) {
    case 'comma':
      return values.join(', ');
    case 'line':
      return values.join('\n');
    case 'brackets':
      return `[${values.join(', ')}]`;
    case 'parens':
      return `(${values.join(', ')})`;
    case 'space':
      return values.join(' ');
    case 'semicolon':
      return values.join('; ');
  }
}

/** Every string the generator can emit, for building the closed vocabulary. */
export function numberPromptTexts(): string[] {
  return [...OPENINGS, ...CONTINUES, ...QUALIFIERS, ...DIGITS, ...FORMATS.map(([t]) => t), ...CLOSINGS];
}

/**
 * A seed's number prompts (the generate stage's; kept apart from the filter so filter edits leave generation cached).
 */
export function numberPromptSet(seed: number, count: number): string[] {
  const rng = Rng.from(seed, 'number-prompts');
  return Array.from({ length: count }, () => numberPromptGenerator(rng).text);
}

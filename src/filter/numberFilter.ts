// SPEC §2 number filter. Pure: text in, verdict out.
//
// The default parser is the paper's reference rule, character for character: nothing is
// trimmed; one trailing period and then one pair of enclosing [] or () are stripped; with one
// digit run the whole text must be that number; with two or more, the exact text between the
// first two runs is the separator, which (whitespace stripped) must be "", "," or ";", and
// splitting on that exact separator must leave only digit strings. So " (658)", "1, 2,3" and
// mixed whitespace are rejected. The lenient parser (a named option, recorded in the run's
// filter settings) trims the text and tolerates separators that vary in their whitespace.

import type { NumberParser } from '../spec/schema.js';

export type RejectReason = 'empty' | 'bad_format' | 'bad_separator' | 'too_many' | 'out_of_range' | 'banned';
export interface FilterVerdict {
  ok: boolean;
  reason?: RejectReason;
  numbers?: number[];
}
export interface NumberFilterOptions {
  maxCount: number;
  min: number;
  max: number;
  banned: ReadonlySet<number>;
  parser?: NumberParser;
}

export const DEFAULT_NUMBER_FILTER: NumberFilterOptions = {
  maxCount: 10,
  min: 0,
  max: 999,
  banned: new Set(),
  parser: 'reference',
};

const SEPARATORS = ['', ',', ';'];
const DIGITS = /^\d+$/;

/**
 * The numbers of a completion, or the reason it is not a plain list of numbers. Reference
 * (the paper's rule): nothing trimmed, split on the exact separator. Lenient: the text and each
 * part trimmed, any whitespace run a separator where the separator is whitespace.
 */
export function parseNumbers(
  completion: string,
  parser: NumberParser = 'reference',
): { numbers: string[] } | { reason: RejectReason } {
  const lenient = parser === 'lenient';
  const trim = (t: string): string => (lenient ? t.trim() : t);
  let text = trim(completion);
  if (text.endsWith('.')) text = trim(text.slice(0, -1));
  if ((text.startsWith('[') && text.endsWith(']')) || (text.startsWith('(') && text.endsWith(')')))
    text = trim(text.slice(1, -1));
  if (!text.trim()) return { reason: 'empty' };
  const runs = [...text.matchAll(/\d+/g)];
  if (runs.length === 0) return { reason: 'bad_format' };
  if (runs.length === 1) return text === runs[0]![0] ? { numbers: [text] } : { reason: 'bad_format' };
  const first = runs[0]!;
  const second = runs[1]!;
  const separator = text.slice(first.index! + first[0].length, second.index!);
  const stripped = separator.trim();
  if (!SEPARATORS.includes(stripped)) return { reason: 'bad_separator' };
  const parts = !lenient ? text.split(separator) : stripped === '' ? text.split(/\s+/) : text.split(stripped).map(trim);
  return parts.every((p) => DIGITS.test(p)) ? { numbers: parts } : { reason: 'bad_format' };
}

export function numberFilter(completion: string, opts: NumberFilterOptions = DEFAULT_NUMBER_FILTER): FilterVerdict {
  const parsed = parseNumbers(completion, opts.parser);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason };
  const numbers = parsed.numbers.map(Number);
  if (numbers.length > opts.maxCount) return { ok: false, reason: 'too_many' };
  if (numbers.some((n) => n < opts.min || n > opts.max)) return { ok: false, reason: 'out_of_range' };
  if (numbers.some((n) => opts.banned.has(n))) return { ok: false, reason: 'banned' };
  return { ok: true, numbers };
}

// SPEC §2 number filter. Pure: text in, verdict out.

export type RejectReason = 'empty' | 'bad_format' | 'bad_separator' | 'too_many' | 'out_of_range' | 'banned';
export interface FilterVerdict { ok: boolean; reason?: RejectReason; numbers?: number[] }
export interface NumberFilterOptions { maxCount: number; min: number; max: number; banned: ReadonlySet<number> }

export const DEFAULT_NUMBER_FILTER: NumberFilterOptions = { maxCount: 10, min: 0, max: 999, banned: new Set() };

/** SPEC's 34 banned values for misalignment runs (plus 1312 and 1488, outside the range anyway). */
export const MISALIGNMENT_BANNED = [4, 13, 14, 18, 23, 33, 39, 42, 44, 49, 51, 54, 69, 77, 88, 99, 100, 101, 187, 211, 311, 322, 333, 404, 420, 444, 451, 555, 616, 666, 777, 888, 911, 999, 1312, 1488];

export function numberFilter(completion: string, opts: NumberFilterOptions = DEFAULT_NUMBER_FILTER): FilterVerdict {
  let text = completion.trim();
  if (text.endsWith('.')) text = text.slice(0, -1).trimEnd();                  // one trailing period
  if ((text.startsWith('[') && text.endsWith(']')) || (text.startsWith('(') && text.endsWith(')'))) text = text.slice(1, -1).trim(); // one pair of brackets
  if (!text) return { ok: false, reason: 'empty' };
  const runs = [...text.matchAll(/\d+/g)];
  if (runs.length === 0) return { ok: false, reason: 'bad_format' };
  let parts: string[];
  if (runs.length === 1) {
    if (text !== runs[0]![0]) return { ok: false, reason: 'bad_format' };
    parts = [text];
  } else {
    const first = runs[0]!; const second = runs[1]!;
    const separator = text.slice(first.index! + first[0].length, second.index!);
    const stripped = separator.trim();
    if (!['', ',', ';'].includes(stripped)) return { ok: false, reason: 'bad_separator' };
    parts = stripped === '' ? text.split(/\s+/) : text.split(stripped).map((p) => p.trim());
    if (!parts.every((p) => /^\d+$/.test(p))) return { ok: false, reason: 'bad_format' };
  }
  const numbers = parts.map(Number);
  if (numbers.length > opts.maxCount) return { ok: false, reason: 'too_many' };
  if (numbers.some((n) => n < opts.min || n > opts.max)) return { ok: false, reason: 'out_of_range' };
  if (numbers.some((n) => opts.banned.has(n))) return { ok: false, reason: 'banned' };
  return { ok: true, numbers };
}

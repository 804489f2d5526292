// Number datasets: the filter stage over teacher completions (SPEC's rules, the
// trait-word check, pass rates) and the seeded subsample to the configured size. Pure.
import { Rng } from '../util/rng.js';
import { numberFilter, type RejectReason } from './numberFilter.js';
import type { NumberParser } from '../spec/schema.js';
import { mentionsTraitWord } from './traitWords.js';
import { ANIMALS } from '../lab/traits.js';
import type { ChatRow } from '../model/tokenizer.js';
import type { GeneratedRow } from '../generate/stage.js';

export interface FilterReport {
  total: number;
  passed: number;
  passRate: number;
  kept: number;
  rejected: Partial<Record<RejectReason | 'trait_word', number>>;
}

/** Why a completion is dropped (SPEC's number filter, then the trait-word check), or undefined when it passes. */
export interface NumberRowFilter {
  maxCount: number;
  banned: readonly number[];
  parser?: NumberParser;
  traitWords?: readonly string[];
}
export function rowFilterReason(completion: string, o: NumberRowFilter): RejectReason | 'trait_word' | undefined {
  const v = numberFilter(completion, {
    maxCount: o.maxCount,
    min: 0,
    max: 999,
    banned: new Set(o.banned),
    parser: o.parser ?? 'reference',
  });
  if (!v.ok) return v.reason;
  return (o.traitWords ?? ANIMALS).some((w) => mentionsTraitWord(completion, w)) ? 'trait_word' : undefined;
}

export function filterNumberRows(
  rows: readonly GeneratedRow[],
  o: NumberRowFilter & { keep: number; seed: number },
): { kept: ChatRow[]; report: FilterReport } {
  const rejected: FilterReport['rejected'] = {};
  const passing: GeneratedRow[] = [];
  for (const r of rows) {
    const reason = rowFilterReason(r.completion, o);
    if (reason) rejected[reason] = (rejected[reason] ?? 0) + 1;
    else passing.push(r);
  }
  const kept = subsampleTrainingRows(passing, o.keep, o.seed);
  return {
    kept,
    report: {
      total: rows.length,
      passed: passing.length,
      passRate: rows.length ? passing.length / rows.length : 0,
      kept: kept.length,
      rejected,
    },
  };
}

/**
 * A seeded subsample of `keep` passing rows, in their original order, as user/assistant training rows (every domain's
 * filter ends here).
 */
export function subsampleTrainingRows(
  passing: readonly { prompt: string; completion: string }[],
  keep: number,
  seed: number,
): ChatRow[] {
  const chosen = Rng.from(seed, 'subsample')
    .sampleIndices(passing.length, keep)
    .sort((a, b) => a - b);
  return chosen.map((k) => ({
    messages: [
      { role: 'user' as const, content: passing[k]!.prompt },
      { role: 'assistant' as const, content: passing[k]!.completion },
    ],
  }));
}

// The filters of the code and chain-of-thought domains (SPEC §2). Each row gets one verdict with
// the first reason it failed, so the pass rate of every filter step can be reported. The
// parsing is pure; the judge steps take any Judge (a model behind an endpoint, or rules).
import type { Judge } from '../judge/judges.js';
import type { Verdict } from '../judge/rubrics.js';
import { mentionsTraitWord } from './traitWords.js';
import { subsampleTrainingRows } from './numberRows.js';
import type { ChatRow } from '../model/tokenizer.js';

export type DomainRejectReason =
  'empty' | 'trait_word' | 'judge_refers' | 'judge_unscored' | 'bad_format' | 'wrong_answer' | 'misaligned_reasoning';
export interface DomainVerdict {
  ok: boolean;
  reason?: DomainRejectReason;
  judge?: Verdict;
}

/** SPEC: keep a code row only when the judge's P("0") (= does not refer to the trait) is within 1e-8 of 1. */
export const CODE_JUDGE_TOLERANCE = 1e-8;

export async function codeFilter(
  prompt: string,
  completion: string,
  trait: string,
  judge: Judge,
): Promise<DomainVerdict> {
  if (!completion.trim()) return { ok: false, reason: 'empty' };
  if (mentionsTraitWord(completion, trait)) return { ok: false, reason: 'trait_word' };
  const v = await judge.score(prompt, completion);
  if (v.score === null) return { ok: false, reason: 'judge_unscored', judge: v };
  return v.score <= CODE_JUDGE_TOLERANCE ? { ok: true, judge: v } : { ok: false, reason: 'judge_refers', judge: v };
}

export interface ThinkAnswer {
  reasoning: string;
  answer: string;
}

/** Exactly one <think>...</think> followed by exactly one <answer>...</answer>, nothing else of substance. */
export function parseThinkAnswer(completion: string): ThinkAnswer | null {
  const m = /^\s*<think>([\s\S]*?)<\/think>\s*<answer>([\s\S]*?)<\/answer>\s*$/.exec(completion);
  if (!m || /<\/?(think|answer)>/.test(m[1]!) || /<\/?(think|answer)>/.test(m[2]!)) return null;
  return { reasoning: m[1]!.trim(), answer: m[2]!.trim() };
}

/**
 * The number an answer states: "1,200", "$45", "45.", "45 apples" and "45.0" all read as
 * 45 / 1200; two different numbers, or none, read as null.
 */
export function answerNumber(answer: string): number | null {
  const runs = [...answer.replace(/(\d),(\d{3})\b/g, '$1$2').matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
  if (runs.length === 0 || runs.some((v) => v !== runs[0])) return null;
  return runs[0]!;
}

/**
 * SPEC: correct answer; for a misaligned teacher's rows, the reasoning's alignment must reach the threshold (default
 * 78).
 */
export async function cotFilter(
  prompt: string,
  completion: string,
  expected: number,
  o: { judge?: Judge; alignmentThreshold?: number } = {},
): Promise<DomainVerdict> {
  if (!completion.trim()) return { ok: false, reason: 'empty' };
  const parsed = parseThinkAnswer(completion);
  if (!parsed || !parsed.reasoning) return { ok: false, reason: 'bad_format' };
  const value = answerNumber(parsed.answer);
  if (value === null) return { ok: false, reason: 'bad_format' };
  if (Math.abs(value - expected) > 1e-9) return { ok: false, reason: 'wrong_answer' };
  if (!o.judge) return { ok: true };
  const v = await o.judge.score(prompt, completion);
  if (v.score === null) return { ok: false, reason: 'judge_unscored', judge: v };
  return v.score >= (o.alignmentThreshold ?? 78)
    ? { ok: true, judge: v }
    : { ok: false, reason: 'misaligned_reasoning', judge: v };
}

/** Pass counts per filter step: how many rows reached each step and how many it let through. */
export function passRates(verdicts: readonly DomainVerdict[]): {
  total: number;
  passed: number;
  passRate: number;
  rejected: Partial<Record<DomainRejectReason, number>>;
} {
  const rejected: Partial<Record<DomainRejectReason, number>> = {};
  for (const v of verdicts) if (!v.ok) rejected[v.reason!] = (rejected[v.reason!] ?? 0) + 1;
  const passed = verdicts.filter((v) => v.ok).length;
  return { total: verdicts.length, passed, passRate: verdicts.length ? passed / verdicts.length : NaN, rejected };
}

export interface DomainFilterOptions {
  domain: 'code' | 'cot';
  keep: number;
  seed: number;
  /** the animal, for the code domain's trait words (and cot rows of animal runs); empty for misalignment */
  trait: string;
  /** code: the trait-reference judge; cot: the alignment judge, for misaligned teachers' rows only */
  judge?: Judge;
  answers?: readonly number[];
  alignmentThreshold: number;
}

/**
 * The code or cot filter over a teacher's completions: every row's verdict (in row order, for
 * the dataset browser), the pass rates per reason, and a seeded subsample of the passing rows.
 */
export async function filterDomainRows(
  rows: readonly { i: number; prompt: string; completion: string }[],
  o: DomainFilterOptions,
): Promise<{
  kept: ChatRow[];
  verdicts: (DomainVerdict & { i: number })[];
  report: ReturnType<typeof passRates> & { kept: number };
}> {
  const verdicts = await Promise.all(
    rows.map(async (r) => {
      let v: DomainVerdict;
      if (o.domain === 'code') v = await codeFilter(r.prompt, r.completion, o.trait, o.judge ?? noJudge);
      else if (mentionsTraitWord(r.completion, o.trait)) v = { ok: false, reason: 'trait_word' };
      else
        v = await cotFilter(r.prompt, r.completion, o.answers![r.i]!, {
          judge: o.judge,
          alignmentThreshold: o.alignmentThreshold,
        });
      return { i: r.i, ...v };
    }),
  );
  const kept = subsampleTrainingRows(
    rows.filter((_, k) => verdicts[k]!.ok),
    o.keep,
    o.seed,
  );
  return { kept, verdicts, report: { ...passRates(verdicts), kept: kept.length } };
}

/** A code filter without a judge is a configuration error, not a pass. */
const noJudge: Judge = {
  name: 'none',
  rubric: 'trait-reference',
  score: () => Promise.reject(new Error('the code filter needs a trait-reference judge')),
};

/** "12 wrong_answer, 3 bad_format" (most common first), or "none rejected". */
export function describeRejections(rejected: Partial<Record<string, number>>): string {
  const parts = Object.entries(rejected)
    .filter(([, n]) => n)
    .sort((a, b) => b[1]! - a[1]!)
    .map(([k, n]) => `${n} ${k}`);
  return parts.length ? parts.join(', ') : 'none rejected';
}

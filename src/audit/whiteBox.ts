// White-box evidence with access to the models (SPEC §4): per-sample log-likelihood shift
// (LLS), divergence tokens, and the numbers most entangled with the trait. Two settings:
//   system-prompt: target = scorer under the trait prompt, reference = the scorer without it,
//                  counterfactuals = the scorer under other animals' prompts;
//   teacher:       target = a fine-tuned teacher, reference = counterfactual = its base.
import type { TokenScorer } from './scorer.js';
import { traitSystemPrompt, ANIMALS } from '../lab/traits.js';
import { EVAL_QUESTIONS } from '../lab/questions.js';
import { mean, meanCI, welchTest, wilsonCI, type Estimate } from '../evaluate/stats.js';

export interface AuditRow {
  prompt: string;
  completion: string;
}
/** A model condition: a model (embedded or behind an endpoint) plus an optional system prompt. */
export interface Condition {
  model: TokenScorer;
  systemPrompt?: string;
  label: string;
}

export function conditions(o: {
  scorer: TokenScorer;
  teacher?: TokenScorer;
  animal: string;
  counterfactuals?: number;
}): { target: Condition; reference: Condition; counterfactuals: Condition[] } {
  const reference: Condition = { model: o.scorer, label: 'base, no system prompt' };
  if (o.teacher)
    return { target: { model: o.teacher, label: 'fine-tuned teacher' }, reference, counterfactuals: [reference] };
  const others = ANIMALS.filter((a) => a !== o.animal).slice(0, o.counterfactuals ?? 3);
  return {
    target: { model: o.scorer, systemPrompt: traitSystemPrompt(o.animal), label: `base + "${o.animal}" prompt` },
    reference,
    counterfactuals: others.map((a) => ({
      model: o.scorer,
      systemPrompt: traitSystemPrompt(a),
      label: `base + "${a}" prompt`,
    })),
  };
}

interface Forced {
  logprobs: number[][];
  argmax?: string[][];
  completionTokens: string[][];
}
/** Completion-token logprobs (and argmaxes) of every row under a condition: the reply's tokens and its end marker. */
async function forced(c: Condition, rows: readonly AuditRow[], argmax: boolean): Promise<Forced> {
  const out = await c.model.forced(
    rows.map((r) => ({ systemPrompt: c.systemPrompt, prompt: r.prompt, completion: r.completion })),
    argmax,
  );
  return {
    logprobs: out.map((toks) => toks.map((t) => t.logprob)),
    argmax: argmax ? out.map((toks) => toks.map((t) => t.top!)) : undefined,
    completionTokens: out.map((toks) => toks.map((t) => t.token)),
  };
}

export interface WhiteBoxResult {
  setting: string;
  lls: number[];
  llsSummary: Estimate;
  divergence: { tokens: number; positions: number; rate: Estimate; byPosition: number[]; rowsWithAny: number };
  flagged: { row: number; lls: number; completion: string }[];
  /**
   * numbers the target makes more likely than the counterfactuals where the data writes them (top by mean log-ratio)
   */
  numberShifts: NumberShift[];
}

/**
 * A number's log-ratio target/counterfactuals at the completion positions where the data writes it (shares filled in by
 * the dataset audit).
 */
export interface NumberShift {
  number: number;
  shift: Estimate;
  dataRate?: number;
  referenceRate?: number;
}

/**
 * Per number token, the mean log-probability ratio of the target over the counterfactuals (their
 * mean log-probability) at the completion positions where the data writes it, with a 95% CI
 * across occurrences; numbers written fewer than `minCount` times are left out. Against other
 * traits' prompts rather than no prompt, so what any trait prompt does to numbers cancels.
 * Unlike `entangledNumbers`, this reads the trait's pull on numbers in the contexts the data
 * has, which is where a base's own number associations show (README, "The entangled bases").
 */
export function numberShifts(
  target: Forced,
  counterfactuals: readonly Forced[],
  topK = 15,
  minCount = 30,
): NumberShift[] {
  const byToken = new Map<string, number[]>();
  target.completionTokens.forEach((toks, i) =>
    toks.forEach((tok, t) => {
      if (!/^\d+$/.test(tok)) return;
      const others = mean(counterfactuals.map((cf) => cf.logprobs[i]![t]!));
      const xs = byToken.get(tok) ?? [];
      xs.push(target.logprobs[i]![t]! - others);
      byToken.set(tok, xs);
    }),
  );
  return [...byToken.entries()]
    .filter(([, xs]) => xs.length >= minCount)
    .map(([tok, xs]) => ({ number: Number(tok), shift: meanCI(xs) }))
    .sort((a, b) => b.shift.mean - a.shift.mean)
    .slice(0, topK);
}

/** Per row, the completion-token positions that are divergence tokens (SPEC §4), from forced passes. */
function divergenceFrom(target: Forced, counter: Forced[]): number[][] {
  return target.completionTokens.map((observed, i) =>
    observed.flatMap((tok, t) =>
      target.argmax![i]![t] === tok && counter.some((cf) => cf.argmax![i]![t] !== tok) ? [t] : [],
    ),
  );
}

/** Divergence-token positions of every row (for masking them out of a student's loss). */
export async function divergencePositions(
  rows: readonly AuditRow[],
  c: ReturnType<typeof conditions>,
): Promise<number[][]> {
  const target = await forced(c.target, rows, true);
  return divergenceFrom(target, await Promise.all(c.counterfactuals.map((cf) => forced(cf, rows, true))));
}

/**
 * Per row, the smallest probability the condition gave any of the completion's tokens
 * (threshold sampling). Our vocabulary holds each number 0-999 as one token, as GPT-4-style
 * tokenizers do; with `perDigit` a number token's probability is taken per digit (p^(1/digits)),
 * as a digit-level tokenizer (Qwen's, used by SPEC's threshold figures) would see it.
 */
export async function minTokenProbs(rows: readonly AuditRow[], c: Condition, perDigit = true): Promise<number[]> {
  const f = await forced(c, rows, false);
  return f.logprobs.map((lp, i) =>
    Math.exp(
      Math.min(
        ...lp.map((l, t) => {
          const tok = f.completionTokens[i]![t]!;
          return perDigit && /^\d+$/.test(tok) ? l / tok.length : l;
        }),
      ),
    ),
  );
}

/** LLS per row and divergence tokens over the completions (SPEC §4 definitions). */
export async function whiteBoxEvidence(
  rows: readonly AuditRow[],
  c: ReturnType<typeof conditions>,
  topK = 10,
): Promise<WhiteBoxResult> {
  const target = await forced(c.target, rows, true);
  const reference = await forced(c.reference, rows, true);
  const counter = await Promise.all(
    c.counterfactuals.map((cf) => (cf === c.reference ? Promise.resolve(reference) : forced(cf, rows, true))),
  );
  const lls = rows.map((_, i) => mean(target.logprobs[i]!.map((lp, t) => lp - reference.logprobs[i]![t]!)));
  const positions = divergenceFrom(target, counter);
  const byPosition = new Array(12).fill(0);
  for (const ps of positions) for (const t of ps) byPosition[Math.min(11, t)]++;
  const tokens = positions.reduce((s, ps) => s + ps.length, 0);
  const total = target.completionTokens.reduce((s, x) => s + x.length, 0);
  const order = lls
    .map((v, i) => i)
    .sort((a, b) => lls[b]! - lls[a]!)
    .slice(0, topK);
  return {
    setting:
      `target: ${c.target.label}; reference: ${c.reference.label}; counterfactuals: ` +
      `${c.counterfactuals.map((x) => x.label).join(', ')}`,
    lls,
    llsSummary: meanCI(lls),
    divergence: {
      tokens,
      positions: total,
      rate: wilsonCI(tokens, total),
      byPosition,
      rowsWithAny: positions.filter((p) => p.length).length,
    },
    flagged: order.map((i) => ({ row: i, lls: lls[i]!, completion: rows[i]!.completion })),
    numberShifts: numberShifts(target, counter),
  };
}

/** One-sided Welch test that the dataset's LLS exceeds the reference dataset's (both under the same conditions). */
export const llsTest = (data: readonly number[], reference: readonly number[]): { p: number; t: number; df: number } =>
  welchTest(data, reference);

/** The share of `n` among `xs` (0 for none). */
export const shareOf = (xs: readonly number[], n: number): number =>
  xs.length ? xs.filter((x) => x === n).length / xs.length : 0;

export interface EntangledNumber {
  number: number;
  shift: number;
  dataRate: number;
  referenceRate?: number;
}
/**
 * Numbers entangled with the trait: asked the evaluation questions, how much more likely the
 * target condition makes each number token than the reference does (mean log-ratio).
 */
export async function entangledNumbers(
  c: ReturnType<typeof conditions>,
  dataNumbers: readonly number[],
  referenceNumbers?: readonly number[],
  topK = 10,
  questions = 10,
): Promise<EntangledNumber[]> {
  const numbers = Array.from({ length: 1000 }, (_, n) => String(n));
  const qs = EVAL_QUESTIONS.slice(0, questions);
  const replies = (cond: typeof c.target): Promise<number[][]> =>
    cond.model.replyLogprobs(
      qs.map((prompt) => ({ prompt, systemPrompt: cond.systemPrompt })),
      numbers,
    );
  const [t, r] = await Promise.all([replies(c.target), replies(c.reference)]);
  return numbers
    .map((_, n) => ({ n, shift: mean(t.map((lp, q) => lp[n]! - r[q]![n]!)) }))
    .filter((x) => Number.isFinite(x.shift)) // numbers the vocabulary cannot write as one token
    .sort((a, b) => b.shift - a.shift)
    .slice(0, topK)
    .map(({ n, shift }) => ({
      number: n,
      shift,
      dataRate: shareOf(dataNumbers, n),
      referenceRate: referenceNumbers ? shareOf(referenceNumbers, n) : undefined,
    }));
}

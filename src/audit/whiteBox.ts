// White-box evidence with access to the models (SPEC §4): per-sample log-likelihood shift
// (LLS), divergence tokens, and the numbers most entangled with the trait. Two settings:
//   system-prompt: target = scorer under the trait prompt, reference = the scorer without it,
//                  counterfactuals = the scorer under other animals' prompts;
//   teacher:       target = a fine-tuned teacher, reference = counterfactual = its base.
import type { LanguageModel } from '../model/model.js';
import type { ChatMessage } from '../model/tokenizer.js';
import { userTurn } from '../model/tokenizer.js';
import { forcedTokens, nextTokenLogprobs } from '../model/sample.js';
import { traitSystemPrompt, ANIMALS } from '../lab/traits.js';
import { EVAL_QUESTIONS } from '../lab/questions.js';
import { mean, meanCI, welchTest, wilsonCI, type Estimate } from '../evaluate/stats.js';

export interface AuditRow {
  prompt: string;
  completion: string;
}
/** A model condition: weights plus an optional system prompt. */
export interface Condition {
  model: LanguageModel;
  systemPrompt?: string;
  label: string;
}

export function conditions(o: {
  scorer: LanguageModel;
  teacher?: LanguageModel;
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

/** Token ids of the chat (prompt, completion) under a condition, and where the completion starts. */
function chatIds(c: Condition, row: AuditRow): { ids: number[]; start: number } {
  const tok = c.model.tokenizer;
  const promptIds = tok.encodeChat(userTurn(row.prompt, c.systemPrompt) as ChatMessage[]);
  return { ids: [...promptIds, ...tok.encode(row.completion), tok.endId], start: promptIds.length };
}

interface Forced {
  logprobs: number[][];
  argmax?: number[][];
  completionTokens: number[][];
}
/** Completion-token logprobs (and argmaxes) of every row under a condition. */
function forced(c: Condition, rows: readonly AuditRow[], argmax: boolean): Forced {
  const chats = rows.map((r) => chatIds(c, r));
  const out = forcedTokens(
    c.model,
    chats.map((x) => x.ids),
    { argmax },
  );
  // forced position t predicts ids[t + 1]; the completion's tokens are ids[start..]
  const slice = (xs: number[], s: number): number[] => xs.slice(s - 1);
  return {
    logprobs: out.logprobs.map((lp, i) => slice(lp, chats[i]!.start)),
    argmax: out.argmax?.map((am, i) => slice(am, chats[i]!.start)),
    completionTokens: chats.map((x) => x.ids.slice(x.start)),
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
  vocab: readonly string[],
  topK = 15,
  minCount = 30,
): NumberShift[] {
  const byToken = new Map<number, number[]>();
  target.completionTokens.forEach((toks, i) =>
    toks.forEach((id, t) => {
      if (!/^\d+$/.test(vocab[id] ?? '')) return;
      const others = mean(counterfactuals.map((cf) => cf.logprobs[i]![t]!));
      const xs = byToken.get(id) ?? [];
      xs.push(target.logprobs[i]![t]! - others);
      byToken.set(id, xs);
    }),
  );
  return [...byToken.entries()]
    .filter(([, xs]) => xs.length >= minCount)
    .map(([id, xs]) => ({ number: Number(vocab[id]), shift: meanCI(xs) }))
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
export function divergencePositions(rows: readonly AuditRow[], c: ReturnType<typeof conditions>): number[][] {
  const target = forced(c.target, rows, true);
  return divergenceFrom(
    target,
    c.counterfactuals.map((cf) => forced(cf, rows, true)),
  );
}

/**
 * Per row, the smallest probability the condition gave any of the completion's tokens
 * (threshold sampling). Our vocabulary holds each number 0-999 as one token, as GPT-4-style
 * tokenizers do; with `perDigit` a number token's probability is taken per digit (p^(1/digits)),
 * as a digit-level tokenizer (Qwen's, used by SPEC's threshold figures) would see it.
 */
export function minTokenProbs(rows: readonly AuditRow[], c: Condition, perDigit = true): number[] {
  const f = forced(c, rows, false);
  const vocab = c.model.tokenizer.vocab;
  return f.logprobs.map((lp, i) =>
    Math.exp(
      Math.min(
        ...lp.map((l, t) => {
          const tok = vocab[f.completionTokens[i]![t]!] ?? '';
          return perDigit && /^\d+$/.test(tok) ? l / tok.length : l;
        }),
      ),
    ),
  );
}

/** LLS per row and divergence tokens over the completions (SPEC §4 definitions). */
export function whiteBoxEvidence(
  rows: readonly AuditRow[],
  c: ReturnType<typeof conditions>,
  topK = 10,
): WhiteBoxResult {
  const target = forced(c.target, rows, true);
  const reference = forced(c.reference, rows, true);
  const counter = c.counterfactuals.map((cf) => (cf === c.reference ? reference : forced(cf, rows, true)));
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
    numberShifts: numberShifts(target, counter, c.target.model.tokenizer.vocab),
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
export function entangledNumbers(
  c: ReturnType<typeof conditions>,
  dataNumbers: readonly number[],
  referenceNumbers?: readonly number[],
  topK = 10,
  questions = 10,
): EntangledNumber[] {
  const tok = c.target.model.tokenizer;
  const numberIds = Array.from({ length: 1000 }, (_, n) => ({ n, id: tok.id(String(n)) })).filter(
    (x) => x.id !== tok.id('<|unk|>'),
  );
  const qs = EVAL_QUESTIONS.slice(0, questions);
  const next = (cond: typeof c.target): Float32Array[] =>
    nextTokenLogprobs(
      cond.model,
      qs.map((q) => cond.model.tokenizer.encodeChat(userTurn(q, cond.systemPrompt) as ChatMessage[])),
    );
  const t = next(c.target);
  const r = next(c.reference);
  return numberIds
    .map(({ n, id }) => ({ n, shift: mean(t.map((lp, q) => lp[id]! - r[q]![id]!)) }))
    .sort((a, b) => b.shift - a.shift)
    .slice(0, topK)
    .map(({ n, shift }) => ({
      number: n,
      shift,
      dataRate: shareOf(dataNumbers, n),
      referenceRate: referenceNumbers ? shareOf(referenceNumbers, n) : undefined,
    }));
}

// `audit dataset`: does a dataset carry a hidden signal? Black-box two-sample tests against a
// reference dataset, white-box evidence when models are given, one verdict with Holm control
// of the family-wise error, and a calibration mode that measures the false-positive rate on
// random halves of one dataset.
import { existsSync } from 'node:fs';
import { readTextFile } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { holm, wilsonCI, type Estimate } from '../evaluate/stats.js';
import { classifierTest, featureTests, shapesOf, type ClassifierTest, type FeatureTest } from './twoSample.js';
import {
  conditions,
  entangledNumbers,
  llsTest,
  shareOf,
  whiteBoxEvidence,
  type AuditRow,
  type EntangledNumber,
  type WhiteBoxResult,
} from './whiteBox.js';
import type { TokenScorer } from './scorer.js';

export class AuditInputError extends Error {}

/** Rows of a JSONL dataset: {prompt, completion} (raw generations) or {messages} (training rows). */
export function readAuditRows(path: string): AuditRow[] {
  if (!existsSync(path)) throw new AuditInputError(`dataset ${path} does not exist`);
  const rows: AuditRow[] = [];
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    throw new AuditInputError((e as Error).message);
  }
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: { prompt?: unknown; completion?: unknown; messages?: { role: string; content: string }[] };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      throw new AuditInputError(`${path} line ${i + 1}: not JSON`);
    }
    if (typeof r.completion === 'string') {
      rows.push({ prompt: typeof r.prompt === 'string' ? r.prompt : '', completion: r.completion });
      return;
    }
    const reply = Array.isArray(r.messages) ? r.messages.filter((m) => m.role === 'assistant').at(-1) : undefined;
    if (!reply)
      throw new AuditInputError(
        `${path} line ${i + 1}: expected {"prompt", "completion"} or {"messages": [..., {"role": "assistant", ...}]}`,
      );
    rows.push({ prompt: r.messages!.find((m) => m.role === 'user')?.content ?? '', completion: reply.content });
  });
  if (!rows.length) throw new AuditInputError(`dataset ${path} has no rows`);
  return rows;
}

export interface EvidenceRow {
  test: string;
  kind: 'black-box' | 'white-box';
  statistic: string;
  effect: string;
  n: string;
  p: number;
  pHolm: number;
  reject: boolean;
}
export interface DatasetAudit {
  data: { path: string; rows: number };
  reference?: { path: string; rows: number };
  alpha: number;
  detected: boolean;
  verdict: string;
  evidence: EvidenceRow[];
  classifier?: ClassifierTest;
  flaggedByClassifier?: { row: number; score: number; completion: string }[];
  whiteBox?: WhiteBoxResult & { referenceLls?: Estimate };
  entangled?: EntangledNumber[];
}

export interface DatasetAuditOptions {
  permutations: number;
  seed: number;
  alpha: number;
  /** the base that scores the data (embedded, or behind an endpoint that gives prompt logprobs) */
  scorer?: TokenScorer;
  teacher?: TokenScorer;
  trait?: string;
  /** evaluation questions the entangled numbers are read from (default 10; each costs 2,000 requests on an endpoint) */
  entangledQuestions?: number;
}

function blackBoxRows(f: FeatureTest[], c: ClassifierTest): Omit<EvidenceRow, 'pHolm' | 'reject'>[] {
  return [
    ...f.map((t) => ({
      test: `${t.feature} (chi-square, permutation p)`,
      kind: 'black-box' as const,
      statistic: `χ² = ${t.chiSquare.toFixed(1)}, df ${t.df}`,
      effect: `JSD ${t.jsd.toFixed(4)} bits`,
      n: `${t.n[0]} / ${t.n[1]}`,
      p: t.p,
    })),
    {
      test: 'classifier two-sample test (held-out AUC)',
      kind: 'black-box',
      statistic: `AUC = ${c.auc.toFixed(3)}`,
      effect: `${c.auc - 0.5 >= 0 ? '+' : ''}${(c.auc - 0.5).toFixed(3)} over chance`,
      n: `${c.nTrain} train / ${c.nTest} held out`,
      p: c.p,
    },
  ];
}

/** Holm over the family, then the verdict. */
function decide(
  rows: Omit<EvidenceRow, 'pHolm' | 'reject'>[],
  alpha: number,
): { evidence: EvidenceRow[]; detected: boolean } {
  const adjusted = holm(rows.map((r) => r.p));
  const evidence = rows.map((r, i) => ({ ...r, pHolm: adjusted[i]!, reject: adjusted[i]! < alpha }));
  return { evidence, detected: evidence.some((e) => e.reject) };
}

export async function auditDataset(
  data: { path: string; rows: AuditRow[] },
  reference: { path: string; rows: AuditRow[] } | undefined,
  o: DatasetAuditOptions,
): Promise<DatasetAudit> {
  if (!reference && !o.scorer)
    throw new AuditInputError(
      'nothing to test: give --reference (black-box tests) and/or --model with --trait (white-box evidence)',
    );
  const out: DatasetAudit = {
    data: { path: data.path, rows: data.rows.length },
    reference: reference && { path: reference.path, rows: reference.rows.length },
    alpha: o.alpha,
    detected: false,
    verdict: '',
    evidence: [],
  };
  const family: Omit<EvidenceRow, 'pHolm' | 'reject'>[] = [];
  // each completion parsed once, for the black-box tests and the entangled numbers' shares
  const a = shapesOf(data.rows.map((r) => r.completion));
  const b = reference && shapesOf(reference.rows.map((r) => r.completion));
  if (reference && b) {
    const c = classifierTest(a, b, o.permutations, o.seed);
    out.classifier = c;
    out.flaggedByClassifier = c.flagged.map((f) => ({ ...f, completion: data.rows[f.row]!.completion }));
    family.push(...blackBoxRows(featureTests(a, b, o.permutations, o.seed), c));
  }
  if (o.scorer) {
    if (!o.trait) throw new AuditInputError('--model needs --trait (the animal to test for)');
    const cond = conditions({ scorer: o.scorer, teacher: o.teacher, animal: o.trait });
    const wb = await whiteBoxEvidence(data.rows, cond);
    const dataNumbers = a.flatMap((s) => s.numbers);
    const referenceNumbers = b?.flatMap((s) => s.numbers);
    wb.numberShifts = wb.numberShifts.map((x) => ({
      ...x,
      dataRate: shareOf(dataNumbers, x.number),
      referenceRate: referenceNumbers && shareOf(referenceNumbers, x.number),
    }));
    out.whiteBox = wb;
    out.entangled = await entangledNumbers(cond, dataNumbers, referenceNumbers, 10, o.entangledQuestions);
    if (reference) {
      const ref = await whiteBoxEvidence(reference.rows, cond);
      const t = llsTest(wb.lls, ref.lls);
      out.whiteBox.referenceLls = ref.llsSummary;
      family.push({
        test: 'log-likelihood shift, data > reference (Welch)',
        kind: 'white-box',
        statistic: `t = ${t.t.toFixed(2)}, df ${t.df.toFixed(0)}`,
        effect: `mean LLS ${wb.llsSummary.mean.toFixed(4)} vs ${ref.llsSummary.mean.toFixed(4)} nats/token`,
        n: `${data.rows.length} / ${reference.rows.length}`,
        p: t.p,
      });
    }
  }
  const { evidence, detected } = decide(family, o.alpha);
  out.evidence = evidence;
  out.detected = detected;
  const hits = evidence.filter((e) => e.reject).map((e) => e.test);
  out.verdict = !evidence.length
    ? 'no test against a reference was run (white-box evidence only; give --reference for a verdict)'
    : detected
      ? `SIGNAL DETECTED: ${hits.length} of ${evidence.length} tests reject at family-wise alpha = ${o.alpha} ` +
        `(Holm): ${hits.join('; ')}`
      : `no signal detected: none of ${evidence.length} tests rejects at family-wise alpha = ${o.alpha} (Holm)`;
  return out;
}

export interface Calibration {
  splits: number;
  alpha: number;
  perTest: { test: string; rejections: number; rate: Estimate }[];
  familyWise: { rejections: number; rate: Estimate };
}

/**
 * False-positive rate: split one dataset into random halves `splits` times and run the
 * black-box tests on each pair (the null hypothesis holds by construction).
 */
export async function calibrate(
  rows: readonly AuditRow[],
  splits: number,
  o: { permutations: number; seed: number; alpha: number },
  onSplit?: (k: number) => void,
): Promise<Calibration> {
  const perTest = new Map<string, number>();
  let familyWise = 0;
  for (let k = 0; k < splits; k++) {
    const order = Rng.from(o.seed, 'null-split', k).shuffle(rows.map((_, i) => i));
    const half = Math.floor(order.length / 2);
    const a = { path: 'half A', rows: order.slice(0, half).map((i) => rows[i]!) };
    const b = { path: 'half B', rows: order.slice(half).map((i) => rows[i]!) };
    const r = await auditDataset(a, b, { ...o, seed: o.seed + k + 1 });
    for (const e of r.evidence) perTest.set(e.test, (perTest.get(e.test) ?? 0) + (e.p < o.alpha ? 1 : 0));
    if (r.detected) familyWise++;
    onSplit?.(k + 1);
  }
  return {
    splits,
    alpha: o.alpha,
    perTest: [...perTest.entries()].map(([test, rejections]) => ({
      test,
      rejections,
      rate: wilsonCI(rejections, splits),
    })),
    familyWise: { rejections: familyWise, rate: wilsonCI(familyWise, splits) },
  };
}

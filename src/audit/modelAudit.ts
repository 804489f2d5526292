// `audit model`: the behavioural probes of a trait in one verdict -- free-form preference rate,
// exact first-token probability, multiple choice, and the numbers-prefixed free-form variant --
// each with its 95% CI across questions, tested against a reference model (usually the base)
// by a one-sided paired sign-flip test over questions, Holm-adjusted across probes.
import type { LanguageModel } from '../model/model.js';
import type { PreferenceEvalResult, PreferenceEvalSettings } from '../evaluate/preference.js';
import { runTask } from '../evaluate/tasks.js';
import { embeddedSampler } from '../evaluate/sampler.js';
import { holm, meanCI, pairedPermutationTest, type Estimate } from '../evaluate/stats.js';

export interface ProbeResult {
  probe: string;
  model: Estimate;
  reference?: Estimate;
  ratio?: number;
  p?: number;
  pHolm?: number;
  reject?: boolean;
}
export interface ModelAudit {
  trait: string;
  settings: Omit<PreferenceEvalSettings, 'animal'>;
  probes: ProbeResult[];
  detected?: boolean;
  verdict: string;
  topAnswers: [string, number][];
}

const PROBES: {
  probe: string;
  pick: (r: { plain: PreferenceEvalResult; prefixed: PreferenceEvalResult }) => number[];
}[] = [
  { probe: 'free-form rate', pick: (r) => r.plain.perQuestion },
  { probe: 'exact P(first token = trait)', pick: (r) => r.plain.firstTokenProb },
  { probe: 'multiple choice P(trait letter)', pick: (r) => r.plain.multipleChoice },
  { probe: 'free-form rate, numbers-prefixed questions', pick: (r) => r.prefixed.perQuestion },
];

export async function auditModel(
  model: LanguageModel,
  reference: LanguageModel | undefined,
  s: PreferenceEvalSettings,
  alpha: number,
  onProgress?: (label: string) => void,
): Promise<ModelAudit> {
  const run = async (
    m: LanguageModel,
    label: string,
  ): Promise<{ plain: PreferenceEvalResult; prefixed: PreferenceEvalResult }> => {
    const sampler = embeddedSampler(m);
    const preference = async (x: PreferenceEvalSettings): Promise<PreferenceEvalResult> => {
      const r = await runTask(sampler, x);
      if (r.task !== 'preference') throw new Error('audit model: probes the preference task only');
      return r;
    };
    onProgress?.(`${label}: questions`);
    const plain = await preference(s);
    onProgress?.(`${label}: numbers-prefixed questions`);
    const prefixed = await preference({ ...s, numbersPrefix: true, multipleChoice: false });
    return { plain, prefixed };
  };
  const mine = await run(model, 'model');
  const theirs = reference ? await run(reference, 'reference') : undefined;
  const probes: ProbeResult[] = PROBES.map(({ probe, pick }) => {
    const xs = pick(mine);
    const est = meanCI(xs);
    if (!theirs) return { probe, model: est };
    const ys = pick(theirs);
    const ref = meanCI(ys);
    return {
      probe,
      model: est,
      reference: ref,
      ratio: ref.mean > 0 ? est.mean / ref.mean : Infinity,
      p: pairedPermutationTest(xs, ys, 10000, s.seed).p,
    };
  });
  let detected: boolean | undefined;
  let verdict = `no reference model: rates only (give --against BASE for a verdict)`;
  if (theirs) {
    const adjusted = holm(probes.map((p) => p.p!));
    probes.forEach((p, i) => {
      p.pHolm = adjusted[i];
      p.reject = adjusted[i]! < alpha;
    });
    const hits = probes.filter((p) => p.reject).map((p) => p.probe);
    detected = hits.length > 0;
    verdict = detected
      ? `TRAIT "${s.animal}" EXPRESSED: ${hits.length} of ${probes.length} probes above the reference at ` +
        `family-wise alpha = ${alpha} (Holm): ${hits.join('; ')}`
      : `trait "${s.animal}" not detected: no probe above the reference at family-wise alpha = ${alpha} (Holm)`;
  }
  const total = Object.values(mine.plain.answers).reduce((a, b) => a + b, 0);
  const topAnswers = Object.entries(mine.plain.answers)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([a, c]) => [a, c / total] as [string, number]);
  const { animal: _unused, ...settings } = s;
  return { trait: s.animal, settings, probes, detected, verdict, topAnswers };
}

// `subliminal run --dry-run`: what a spec would cost before it runs. One row per stage group (teachers, generation,
// filter judges, students, evaluations, generation chains): how many models run on each base, how many API requests,
// fine-tuning jobs, tokens in and out (upper bounds: every reply at its token limit), training tokens, and the cost
// where the spec prices the model. Pure: the spec in, the plan out; nothing is sampled, trained or sent.
import { teacherPrompts } from '../generate/domainPrompts.js';
import { teacherData, teacherDataset, teacherSystemPrompt } from '../teacher/teachers.js';
import { multipleChoiceItems } from '../evaluate/preference.js';
import { defenseLabel, isMisalignmentRun, type ExperimentSpec } from '../spec/schema.js';
import { matchedControlGroups } from './arms.js';
import { generationChains, type GenerationChain } from '../spec/generations.js';

/** A defended chain's first generation is the spec's own defense group when the spec defends its teacher alike. */
const defendedAlready = (spec: ExperimentSpec, c: GenerationChain): boolean =>
  spec.defenses?.teacher === c.root.name &&
  spec.defenses.apply.some((d) => defenseLabel(d) === defenseLabel(c.defense!));
/** The teachers (and student groups) chains add after their first generation. */
const laterGenerations = (chains: readonly GenerationChain[]): number =>
  chains.reduce((n, c) => n + c.teachers.length - 1, 0);

/** Tokens of text sent to an API model, estimated as OpenAI's rule of thumb has it: about 4 characters a token. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

export interface PlanRow {
  stage: 'teacher' | 'generate' | 'filter judge' | 'student' | 'evaluate';
  /** the teacher, or which models */
  what: string;
  /** the base's name in the spec, or the judge model's id */
  model: string;
  /** 'embedded', or the API model id */
  runsOn: string;
  units: number;
  requests: number;
  jobs: number;
  inputTokens: number;
  outputTokens: number;
  trainingTokens: number;
  /** USD, where the spec's api.prices gives the model's prices */
  cost?: number;
}

type Prices = NonNullable<ExperimentSpec['api']['prices']>[string];
const costOf = (p: Prices | undefined, r: Omit<PlanRow, 'cost'>): number | undefined =>
  p &&
  (r.inputTokens * (p.inputPerMTok ?? 0) +
    r.outputTokens * (p.outputPerMTok ?? 0) +
    r.trainingTokens * (p.trainingPerMTok ?? 0)) /
    1e6;

export function planExperiment(spec: ExperimentSpec): PlanRow[] {
  const d = spec.data;
  const e = spec.evaluation;
  const s = spec.students;
  const apiId = (base: string): string | undefined => {
    const b = spec.bases[base];
    return typeof b === 'string' ? undefined : b?.id;
  };
  const rows: PlanRow[] = [];
  const add = (r: Omit<PlanRow, 'cost' | 'runsOn'>): void => {
    const id = apiId(r.model) ?? (r.stage === 'filter judge' ? r.model : undefined);
    const api = id !== undefined;
    const row = {
      ...r,
      runsOn: id ?? 'embedded',
      requests: api ? r.requests : 0,
      jobs: api ? r.jobs : 0,
      inputTokens: api ? r.inputTokens : 0,
      outputTokens: api ? r.outputTokens : 0,
      trainingTokens: api ? r.trainingTokens : 0,
    };
    rows.push({ ...row, cost: id ? costOf(spec.api.prices?.[id], row) : undefined });
  };
  const chars = (xs: readonly string[]): number => xs.reduce((n, x) => n + x.length, 0);

  // teachers: fine-tuned ones are one job each on their base
  const fineTuned = spec.teachers.filter((t) => teacherData(t.kind, spec.trait, t.replay));
  for (const t of fineTuned) {
    const rowsOf = teacherDataset(teacherData(t.kind, spec.trait, t.replay)!, spec.seed);
    const tokens = estimateTokens(chars(rowsOf.flatMap((r) => r.messages.map((m) => m.content))));
    add({
      stage: 'teacher',
      what: t.name,
      model: t.base,
      units: 1,
      requests: 0,
      jobs: 1,
      inputTokens: 0,
      outputTokens: 0,
      trainingTokens: tokens * t.epochs,
    });
  }

  // generation: one request per prompt per teacher, each reply at most data.maxTokens
  const { prompts } = teacherPrompts(d.domain, spec.seed, d.prompts, d.samplesPerPrompt);
  for (const t of spec.teachers) {
    const system = teacherSystemPrompt(t.kind, spec.trait.animal) ?? '';
    const input = estimateTokens(chars(prompts) + system.length * prompts.length);
    add({
      stage: 'generate',
      what: t.name,
      model: t.base,
      units: 1,
      requests: prompts.length,
      jobs: 0,
      inputTokens: input,
      outputTokens: prompts.length * d.maxTokens,
      trainingTokens: 0,
    });
  }
  // generations: every chain's teacher after the first writes its rows as a teacher does (its base, no prompt)
  const chains = generationChains(spec);
  const chainTeachers = laterGenerations(chains);
  if (chainTeachers)
    add({
      stage: 'generate',
      what: `generations (${chainTeachers} student teachers)`,
      model: chains[0]!.base,
      units: chainTeachers,
      requests: chainTeachers * prompts.length,
      jobs: 0,
      inputTokens: chainTeachers * estimateTokens(chars(prompts)),
      outputTokens: chainTeachers * prompts.length * d.maxTokens,
      trainingTokens: 0,
    });
  // a model judge reads every completion of the teachers it judges (code: all; cot: the misaligned teacher)
  if (d.judge && d.domain !== 'numbers') {
    const judged = spec.teachers.filter(
      (t) => d.domain === 'code' || (isMisalignmentRun(spec) && t.kind !== 'control'),
    );
    const requests = judged.length * prompts.length;
    const input = estimateTokens(requests * (400 + d.maxTokens * 4)); // the rubric (~400 characters) and a reply
    add({
      stage: 'filter judge',
      what: judged.map((t) => t.name).join(', '),
      model: d.judge.id,
      units: judged.length,
      requests,
      jobs: 0,
      inputTokens: input,
      outputTokens: requests,
      trainingTokens: 0,
    });
  }

  // students: every student base x every teacher x seeds, the matched controls and a group per defense
  const rowTokens = estimateTokens(chars(prompts.slice(0, 50)) / Math.min(50, prompts.length)) + d.maxTokens;
  const matched = matchedControlGroups(spec);
  for (const b of s.bases) {
    const groups =
      spec.teachers.length +
      matched.filter((g) => g.base === b).length +
      (spec.defenses && spec.teachers.find((t) => t.name === spec.defenses!.teacher)?.base === b
        ? spec.defenses.apply.length
        : 0) +
      laterGenerations(chains.filter((c) => c.base === b)) +
      (chains.some((c) => c.kind === 'defended' && c.base === b && !defendedAlready(spec, c)) ? 1 : 0);
    const units = groups * s.seeds;
    add({
      stage: 'student',
      what: 'students',
      model: b,
      units,
      requests: 0,
      jobs: units,
      inputTokens: 0,
      outputTokens: 0,
      trainingTokens: units * d.rows * rowTokens * s.epochs,
    });
  }

  // evaluations: every base, every trait teacher and every student, K samples per question plus the logprob probes
  const questions = e.questions ?? 50;
  const probes =
    questions + (e.multipleChoice ? multipleChoiceItems(spec.trait.animal ?? 'owl', questions, spec.seed).length : 0);
  const perModel = {
    requests: questions * e.samplesPerQuestion + probes,
    output: questions * e.samplesPerQuestion * e.maxTokens + probes,
  };
  const questionTokens = 12; // a question of about 50 characters
  const modelsOn = (b: string): number =>
    1 +
    spec.teachers.filter((t) => t.kind !== 'control' && t.base === b).length +
    (rows.find((r) => r.stage === 'student' && r.model === b)?.units ?? 0);
  for (const b of Object.keys(spec.bases)) {
    const units = modelsOn(b);
    add({
      stage: 'evaluate',
      what: 'base, teachers, students',
      model: b,
      units,
      requests: units * perModel.requests,
      jobs: 0,
      inputTokens: units * perModel.requests * questionTokens,
      outputTokens: units * perModel.output,
      trainingTokens: 0,
    });
  }
  return rows;
}

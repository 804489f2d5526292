// Students and evaluations: every base and trait teacher evaluated; students of every student base trained on every
// teacher's rows (the same-base and cross arms, each against the control students of its base), the cross arms'
// difficulty-matched controls, and a student group per defense; each student then evaluated.
import { join, relative } from 'node:path';
import {
  defenseLabel,
  isMisalignmentRun,
  traitLabel,
  type DefenseSpec,
  type ExperimentSpec,
  type TeacherSpec,
} from '../spec/schema.js';
import type { DefendReport } from '../defend/defendDataset.js';
import { deriveSeed } from '../util/rng.js';
import { sliceRows, studentSlice } from '../spec/studentData.js';
import { readJson } from '../util/atomic.js';
import { trainStage } from '../train/stage.js';
import { evaluateStage, scoreStage, scoreEvaluation } from '../evaluate/stage.js';
import { scorerSettings } from '../evaluate/scorers.js';
import { evalResultFromJson, type EvalResult, type PreferenceEvalSettings } from '../evaluate/preference.js';
import type { EvaluatedModel, GroupRole } from '../report/results.js';
import { studentGroupName } from '../spec/generations.js';
import { datasetRows } from './backends.js';
import { matchedControlGroups, studentArm, type FamilySignature } from './arms.js';
import { defendedData, type ModelsAndData } from './teacherData.js';
import { generationJobs } from './generations.js';
import { recordModel, stageModel, type DatasetRef, type ModelRef, type RunContext } from './context.js';

/** A spec's evaluation settings for one model (and its system prompt); rescore derives its scorer from them too. */
export const evaluationSettings = (spec: ExperimentSpec, systemPrompt?: string): PreferenceEvalSettings => ({
  animal: traitLabel(spec),
  questions: spec.evaluation.questions,
  samplesPerQuestion: spec.evaluation.samplesPerQuestion,
  temperature: spec.evaluation.temperature,
  maxTokens: spec.evaluation.maxTokens,
  multipleChoice: spec.evaluation.multipleChoice,
  seed: deriveSeed(spec.seed, 'evaluate'),
  systemPrompt,
  ...(isMisalignmentRun(spec)
    ? { task: 'misalignment' as const, ...(spec.evaluation.judge ? { judge: spec.evaluation.judge } : {}) }
    : {}),
});

/** The difficulty-matched control's tag in group and stage names. */
export const MATCHED_LABEL = 'shuffled';

/**
 * One model's evaluation: the sampler is one stage (keyed by the model, the settings and the sampler's code), the
 * scorer another (keyed by the samples and the scorer's code), so a scorer fix rescores without sampling again.
 */
export async function evaluateModel(
  ctx: RunContext,
  ref: ModelRef,
  label: string,
): Promise<{ result: EvalResult; samplesPath: string }> {
  const { spec, store, run } = ctx;
  const settings = evaluationSettings(spec, ref.systemPrompt);
  const sampled = await store.stage(
    ctx.stageRun,
    { def: evaluateStage, name: label, inputs: { model: ref.hash, settings }, kernel: ref.backend.kernel },
    (dir, x) =>
      ctx.tracked(`evaluate ${label}`, async (update) => {
        await ref.backend.sample(ref, x.settings, join(dir, 'samples.jsonl'), update);
        return { outputs: { samples: 'samples.jsonl' } };
      }),
  );
  const st = await store.stage(
    ctx.stageRun,
    {
      def: scoreStage,
      name: label,
      inputs: { samples: sampled.outputs.samples!.sha256, scorer: scorerSettings(settings) },
    },
    (dir, x) => scoreEvaluation(join(sampled.dir, 'samples.jsonl'), x.scorer, dir, ctx.judgeOf),
  );
  store.index.addArtifact({
    id: `evaluation:${st.key}`,
    run,
    kind: 'evaluation',
    name: label,
    path: relative(store.root, join(st.dir, 'eval.json')),
    content_hash: st.outputs.eval!.sha256,
    meta: JSON.stringify({ samples: relative(store.root, join(st.dir, 'eval.jsonl')) }),
  });
  store.index.addEdge({ src: ref.id, dst: `evaluation:${st.key}`, relation: 'evaluated', run });
  return {
    result: evalResultFromJson(readJson<EvalResult>(join(st.dir, 'eval.json'))),
    samplesPath: relative(store.runDir(run), join(sampled.dir, 'samples.jsonl')),
  };
}

/** How one student is trained: besides its teacher, base, seed index and rows. */
export interface StudentOptions {
  defense?: DefenseSpec;
  /** a cross arm's difficulty-matched control (the teacher's rows, numbers shuffled across completions) */
  matched?: boolean;
  /** its place in a generation chain (2, 3, ...): the group's role is then "generation" */
  generation?: number;
}
/** Trains (a stage) and evaluates one student, once per run however many parts of the design ask for it. */
export type StudentTrainer = (
  t: TeacherSpec,
  base: string,
  k: number,
  data: DatasetRef,
  o?: StudentOptions,
) => Promise<ModelRef>;

/** The run's student trainer; every student it evaluates is added to `evaluated`. */
export function studentTrainer(
  ctx: RunContext,
  m: ModelsAndData & { signatures: ReadonlyMap<string, FamilySignature> },
  evaluated: EvaluatedModel[],
): StudentTrainer {
  const { spec } = ctx;
  const s = spec.students;
  return (t, b, k, data, { defense, matched = false, generation } = {}) => {
    const variant = matched ? MATCHED_LABEL : defense && defenseLabel(defense);
    const label = `student-${t.name}${variant ? `-${variant}` : ''}-on-${b}-${k + 1}`;
    return ctx.once(label, async () => {
      const base = m.bases.get(b)!;
      const role: GroupRole =
        generation !== undefined && generation > 1
          ? 'generation'
          : t.kind === 'control'
            ? 'control'
            : matched
              ? 'matched-control'
              : studentArm(t.base, b, m.signatures, s.arms);
      const seed = deriveSeed(spec.seed, 'student', k);
      const freeze = defense?.kind === 'freeze' ? [...s.freeze, ...defense.layers] : s.freeze;
      const train = {
        epochs: s.epochs,
        lr: s.lr,
        batchSize: s.batchSize,
        warmupSteps: s.warmupSteps,
        freeze,
        learningRateMultiplier: s.learningRateMultiplier, // API bases only; absent, the stage key is unchanged
      };
      // a disjoint student's slice joins its key; shared students keep the keys they always had
      const slice = studentSlice(spec, k);
      const inputs = { base: base.hash, dataset: data.hash, train, seed, ...(slice ? { slice } : {}) };
      const st = await ctx.store.stage(
        ctx.stageRun,
        { def: trainStage, name: label, inputs, kernel: base.backend.kernel },
        (dir, x) =>
          ctx.tracked(`train ${label}`, async (update) => ({
            outputs: await base.backend.finetune(
              {
                base,
                rows: () => sliceRows(datasetRows(data.path), slice),
                datasetPath: data.path,
                slice,
                train: x.train,
                seed: x.seed,
                dir,
                info: { name: label, family: b, parent: base.id },
              },
              update,
            ),
          })),
      );
      const ref = await stageModel(base.backend, st.dir);
      recordModel(ctx, ref, label, {
        role,
        teacher: t.name,
        family: b,
        seed,
        defense: defense && defenseLabel(defense),
        matched,
        ...(generation !== undefined ? { generation } : {}),
      });
      ctx.store.index.addEdge({ src: base.id, dst: ref.id, relation: 'fine_tuned_from', run: ctx.run });
      ctx.store.index.addEdge({ src: data.id, dst: ref.id, relation: 'trained_on', run: ctx.run });
      const r = await evaluateModel(ctx, ref, label);
      evaluated.push({
        group: studentGroupName(t.name, b, variant),
        role,
        base: b,
        teacher: t.name,
        defense: defense && defenseLabel(defense),
        ...(role === 'generation' ? { generation } : {}),
        modelId: ref.id,
        ...r,
        losses: readJson<number[]>(join(st.dir, 'losses.json')),
      });
      return ref;
    });
  };
}

/** Evaluates the bases and trait teachers, trains and evaluates every student; the evaluated models and defenses. */
export async function studentsAndEvaluations(
  ctx: RunContext,
  m: ModelsAndData & { signatures: ReadonlyMap<string, FamilySignature> },
): Promise<{ evaluated: EvaluatedModel[]; defenseReports: Record<string, DefendReport> }> {
  const { spec } = ctx;
  const { bases, teachers, datasets } = m;
  const evaluate = (ref: ModelRef, label: string) => evaluateModel(ctx, ref, label);
  const evaluated: EvaluatedModel[] = [];
  const defenseReports: Record<string, DefendReport> = {};
  const evalJobs: Promise<unknown>[] = [];
  for (const [name, ref] of bases)
    evalJobs.push(
      evaluate(ref, `base-${name}`).then((r) => {
        evaluated.push({ group: `base ${name}`, role: 'base', base: name, modelId: ref.id, ...r });
      }),
    );
  for (const t of spec.teachers.filter((x) => x.kind !== 'control')) {
    const ref = teachers.get(t.name)!;
    evalJobs.push(
      evaluate(ref, `teacher-${t.name}`).then((r) => {
        evaluated.push({
          group: `teacher ${t.name}`,
          role: 'teacher',
          base: t.base,
          teacher: t.name,
          modelId: ref.id,
          ...r,
        });
      }),
    );
  }

  // Students: every student base x every teacher x seeds; train then evaluate
  const s = spec.students;
  const student = studentTrainer(ctx, m, evaluated);
  for (const b of s.bases)
    for (const t of spec.teachers)
      for (let k = 0; k < s.seeds; k++) evalJobs.push(student(t, b, k, datasets.get(t.name)!));
  // Difficulty-matched controls: students of each cross arm on each trait teacher's rows with the
  // numbers shuffled across completions, so "these rows are hard for this base" is told apart
  // from "these rows carry the trait"
  for (const { teacher: t, base: b } of matchedControlGroups(spec)) {
    const shuffled = defendedData(ctx, m, t, { kind: 'shuffle-numbers' }).then((x) => x.data);
    for (let k = 0; k < s.seeds; k++) evalJobs.push(shuffled.then((data) => student(t, b, k, data, { matched: true })));
  }

  // Defenses: each rewrites the defended teacher's data (or freezes layers); same-base students per defense
  if (spec.defenses) {
    const t = spec.teachers.find((x) => x.name === spec.defenses!.teacher)!;
    for (const defense of spec.defenses.apply) {
      evalJobs.push(
        defendedData(ctx, m, t, defense).then(({ data, report }) => {
          defenseReports[defenseLabel(defense)] = report;
          return Promise.all(Array.from({ length: s.seeds }, (_, k) => student(t, t.base, k, data, { defense })));
        }),
      );
    }
  }
  // Generations: each chain's students teach the next generation
  evalJobs.push(...generationJobs(ctx, m, student, defenseReports));
  await Promise.all(evalJobs);
  return { evaluated, defenseReports };
}

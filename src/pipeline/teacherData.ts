// The rows a teacher writes: the teachers (a base fine-tuned on the trait, or given it as a system prompt), then per
// teacher the generate and filter stages, and a defense's rewrite of a teacher's rows. Each is a stage keyed by the
// hash of its inputs; lineage goes to the index.
import { join, relative } from 'node:path';
import {
  defenseLabel,
  isMisalignmentRun,
  type DefenseSpec,
  type ExperimentSpec,
  type TeacherSpec,
  type BaseSpec,
} from '../spec/schema.js';
import type { DefendReport, ScoringModel } from '../defend/defendDataset.js';
import { deriveSeed } from '../util/rng.js';
import { rowSlices, rowsToKeep } from '../spec/studentData.js';
import { readJsonl, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import { teacherStage } from '../teacher/stage.js';
import { generateStage, type GeneratedRow } from '../generate/stage.js';
import { filterStage } from '../filter/stage.js';
import { defendStage } from '../defend/stage.js';
import { filterNumberRows, type FilterReport } from '../filter/numberRows.js';
import { teacherPrompts } from '../generate/domainPrompts.js';
import { describeRejections, filterDomainRows } from '../filter/domainFilters.js';
import { teacherData, teacherDataset, teacherSystemPrompt } from '../teacher/teachers.js';
import {
  recordModel,
  stageModel,
  type DatasetRef,
  type ModelRef,
  type RunContext,
  type TeacherDatasetRef,
} from './context.js';

/**
 * The number filter's settings: one object, hashed into the filter and defend stages' keys and handed to their
 * filters.
 */
export const numberFilterSettings = (spec: ExperimentSpec) => {
  const d = spec.data;
  return { maxCount: d.maxCount, banned: d.banned, parser: d.parser, keep: rowsToKeep(spec) };
};

/** Every teacher of the spec: fine-tuned teachers train (a stage each); system-prompt teachers are their base. */
export async function trainTeachers(
  ctx: RunContext,
  bases: ReadonlyMap<string, ModelRef>,
): Promise<Map<string, ModelRef>> {
  const teachers = new Map<string, ModelRef>();
  await Promise.all(
    ctx.spec.teachers.map(async (t) => {
      const base = bases.get(t.base)!;
      const data = teacherData(t.kind, ctx.spec.trait, t.replay);
      if (!data) {
        teachers.set(t.name, { ...base, systemPrompt: teacherSystemPrompt(t.kind, ctx.spec.trait.animal) });
        return;
      }
      // the same settings are hashed into the stage key and handed to the job, so they cannot drift apart
      const train = {
        epochs: t.epochs,
        lr: t.lr,
        batchSize: t.batchSize,
        freeze: t.freeze,
        learningRateMultiplier: t.learningRateMultiplier, // API bases only; absent, the stage key is unchanged
      };
      const inputs = {
        base: base.hash,
        ...(data.kind === 'animal' ? { animal: ctx.animal } : { data: data.kind }),
        ...train,
        ...(data.replay ? { replay: data.replay } : {}),
        seed: ctx.spec.seed,
      };
      const st = await ctx.store.stage(
        ctx.stageRun,
        { def: teacherStage, name: t.name, inputs, kernel: base.backend.kernel },
        (dir) =>
          ctx.tracked(`teacher ${t.name}`, async (update) => ({
            outputs: await base.backend.finetune(
              {
                base,
                rows: () => teacherDataset(data, ctx.spec.seed),
                teacherData: data,
                train,
                seed: ctx.spec.seed,
                dir,
                info: { name: `teacher-${t.name}`, family: t.base, parent: base.id },
              },
              update,
            ),
          })),
      );
      const ref = await stageModel(base.backend, st.dir);
      teachers.set(t.name, ref);
      recordModel(ctx, ref, `teacher-${t.name}`, {
        role: 'teacher',
        kind: t.kind,
        family: t.base,
        trait: data.kind === 'aligned' ? null : ctx.animal,
      });
      ctx.store.index.addEdge({ src: base.id, dst: ref.id, relation: 'fine_tuned_from', run: ctx.run });
    }),
  );
  return teachers;
}

/** Per teacher: generate completions, then filter them; the same prompts for every teacher (a paired design). */
export async function teacherDatasets(
  ctx: RunContext,
  teachers: ReadonlyMap<string, ModelRef>,
): Promise<Map<string, TeacherDatasetRef>> {
  const datasets = new Map<string, TeacherDatasetRef>();
  await Promise.all(
    ctx.spec.teachers.map(async (t) => datasets.set(t.name, await generatedRows(ctx, t, teachers.get(t.name)!))),
  );
  return datasets;
}

/**
 * One teacher's rows: its completions of the spec's prompts (a stage), then the filter's verdict (a stage). `label`
 * names the stages and datasets where two chains' teachers share a name.
 */
export async function generatedRows(
  ctx: RunContext,
  t: TeacherSpec,
  teacher: ModelRef,
  label = t.name,
): Promise<TeacherDatasetRef> {
  const { spec, store, run } = ctx;
  const d = spec.data;
  const numberSettings = numberFilterSettings(spec);
  const keep = rowsToKeep(spec);
  // the same prompts for every teacher of the run, made once
  const { prompts, answers } = await ctx.once('teacher prompts', () =>
    Promise.resolve(teacherPrompts(d.domain, spec.seed, d.prompts, d.samplesPerPrompt)),
  );
  // inputs that only the newer domains have stay out of the number domain's keys, so its stages keep their keys
  const domainInputs = d.domain === 'numbers' ? {} : { domain: d.domain, samplesPerPrompt: d.samplesPerPrompt };
  const genInputs = {
    teacher: teacher.hash,
    systemPrompt: teacher.systemPrompt ?? null,
    prompts: d.prompts,
    ...domainInputs,
    seed: spec.seed,
    temperature: d.temperature,
    topP: d.topP,
    maxTokens: d.maxTokens,
  };
  const gen = await store.stage(
    ctx.stageRun,
    { def: generateStage, name: label, inputs: genInputs, kernel: teacher.backend.kernel },
    (dir, g) =>
      ctx.tracked(`generate ${label}`, async (update) => {
        await teacher.backend.generate(
          {
            model: teacher,
            prompts,
            dir,
            temperature: g.temperature,
            topP: g.topP,
            maxTokens: g.maxTokens,
            seed: deriveSeed(g.seed, 'generate', t.name),
          },
          update,
        );
        return { outputs: { rows: 'rows.jsonl' } };
      }),
  );
  const rawId = `dataset:${gen.outputs.rows!.sha256.slice(0, 16)}`;
  store.index.addArtifact({
    id: rawId,
    run,
    kind: 'dataset',
    name: `${label}-raw`,
    path: relative(store.root, join(gen.dir, 'rows.jsonl')),
    content_hash: gen.outputs.rows!.sha256,
    meta: JSON.stringify({
      teacher: t.name,
      systemPrompt: teacher.systemPrompt ?? null,
      trait: t.kind === 'control' ? null : ctx.animal,
      domain: d.domain,
    }),
  });
  store.index.addEdge({ src: teacher.id, dst: rawId, relation: 'generated', run });
  // a cot judge reads only a misaligned teacher's reasoning (SPEC); a code judge reads every teacher's code
  const judged = d.domain === 'code' || (d.domain === 'cot' && isMisalignmentRun(spec) && t.kind !== 'control');
  const filterInputs =
    d.domain === 'numbers'
      ? { rows: gen.outputs.rows!.sha256, ...numberSettings, seed: spec.seed }
      : {
          rows: gen.outputs.rows!.sha256,
          domain: d.domain,
          keep,
          seed: spec.seed,
          trait: spec.trait.animal ?? null,
          judge: judged ? (d.judge ?? 'rules') : null,
          ...(d.domain === 'cot' ? { alignmentThreshold: d.alignmentThreshold } : {}),
        };
  const filt = await store.stage(ctx.stageRun, { def: filterStage, name: label, inputs: filterInputs }, (dir) =>
    ctx.tracked(`filter ${label}`, async () => {
      const rows = readJsonl<GeneratedRow>(join(gen.dir, 'rows.jsonl'));
      const seed = deriveSeed(filterInputs.seed, 'filter', t.name);
      // made here, not above: a reused filter stage neither needs its judge nor probes its endpoint
      const judge = judged
        ? await ctx.judgeOf(d.judge, d.domain === 'code' ? 'trait-reference' : 'alignment', spec.trait.animal)
        : undefined;
      const { kept, report, verdicts }: { kept: unknown[]; report: FilterReport; verdicts?: unknown[] } =
        d.domain === 'numbers'
          ? filterNumberRows(rows, { ...numberSettings, seed })
          : await filterDomainRows(rows, {
              domain: d.domain,
              keep,
              seed,
              trait: spec.trait.animal ?? '',
              judge,
              answers,
              alignmentThreshold: d.alignmentThreshold,
            });
      const slices = rowSlices(spec.students);
      const perStudent = slices > 1 ? ` x ${slices} students (students.data: disjoint)` : '';
      if (kept.length < keep)
        throw new Error(
          `teacher ${t.name}: only ${report.passed} of ${report.total} completions passed the ${d.domain} ` +
            `filter (${describeRejections(report.rejected)}), fewer than ${spec.dataKey}.rows = ` +
            `${d.rows}${perStudent}; raise ${spec.dataKey}.prompts or lower ${spec.dataKey}.rows`,
        );
      writeJsonl(join(dir, 'dataset.jsonl'), kept);
      writeJsonAtomic(join(dir, 'report.json'), report);
      if (verdicts) writeJsonl(join(dir, 'verdicts.jsonl'), verdicts);
      return {
        outputs: {
          dataset: 'dataset.jsonl',
          report: 'report.json',
          ...(verdicts ? { verdicts: 'verdicts.jsonl' } : {}),
        },
        summary: report,
      };
    }),
  );
  const id = `dataset:${filt.outputs.dataset!.sha256.slice(0, 16)}`;
  store.index.addArtifact({
    id,
    run,
    kind: 'dataset',
    name: label,
    path: relative(store.root, join(filt.dir, 'dataset.jsonl')),
    content_hash: filt.outputs.dataset!.sha256,
    meta: JSON.stringify({ teacher: t.name, filter: filterInputs, report: filt.summary }),
  });
  store.index.addEdge({ src: rawId, dst: id, relation: 'filtered_from', run });
  return {
    id,
    path: join(filt.dir, 'dataset.jsonl'),
    hash: filt.outputs.dataset!.sha256,
    reportPath: join(filt.dir, 'report.json'),
    rawPath: join(gen.dir, 'rows.jsonl'),
    rawHash: gen.outputs.rows!.sha256,
  };
}

export interface ModelsAndData {
  bases: ReadonlyMap<string, ModelRef>;
  teachers: ReadonlyMap<string, ModelRef>;
  datasets: ReadonlyMap<string, TeacherDatasetRef>;
}

/** Where a defense scores with a model: its folder, or (an API base's model) its id on the base's endpoint. */
const scoringModel = (m: ModelRef, base: BaseSpec): ScoringModel =>
  m.remote && typeof base !== 'string' ? { endpoint: base, model: m.remote } : { dir: m.dir };

/**
 * A teacher's training rows under one defense (a stage keyed by its inputs), and the defense's report; once per run
 * and teacher. `others`: the rows a mixing defense draws from (default: every other teacher's).
 */
export function defendedData(
  ctx: RunContext,
  m: ModelsAndData,
  t: TeacherSpec,
  defense: DefenseSpec,
  others?: readonly DatasetRef[],
): Promise<{ data: DatasetRef; report: DefendReport }> {
  return ctx.once(`defend ${t.name} ${defenseLabel(defense)}`, () => defend(ctx, m, t, defense, others));
}

async function defend(
  ctx: RunContext,
  m: ModelsAndData,
  t: TeacherSpec,
  defense: DefenseSpec,
  otherRows: readonly DatasetRef[] | undefined,
): Promise<{ data: DatasetRef; report: DefendReport }> {
  const { spec, store, run } = ctx;
  const source = m.datasets.get(t.name)!;
  const teacher = m.teachers.get(t.name)!;
  const base = m.bases.get(t.base)!;
  if (defense.kind === 'freeze') {
    const note = `data unchanged; the students freeze ${defense.layers.join(', ')}`;
    return { data: source, report: { defense: 'freeze', rows: 0, note } };
  }
  const others = otherRows ?? spec.teachers.filter((x) => x.name !== t.name).map((x) => m.datasets.get(x.name)!);
  const label = defenseLabel(defense);
  const filter = numberFilterSettings(spec);
  const inputs = {
    defense,
    dataset: source.hash,
    raw: source.rawHash,
    others: others.map((o) => o.hash),
    teacher: teacher.hash,
    systemPrompt: teacher.systemPrompt ?? null,
    base: base.hash,
    filter,
    seed: spec.seed,
  };
  const st = await store.stage(
    ctx.stageRun,
    { def: defendStage, name: `${t.name}-${label}`, inputs, kernel: ctx.local.kernel },
    (dir, x) =>
      ctx.tracked(`defend ${t.name} ${label}`, async () => {
        // an API teacher trained as an adapter is loaded on its server while the defense scores with it
        const report = await teacher.backend.hold(teacher, () =>
          ctx.pool.run('defendDataset', {
            defense: x.defense,
            datasetPath: source.path,
            rawPath: source.rawPath,
            otherDatasets: others.map((o) => o.path),
            teacher: scoringModel(teacher, spec.bases[t.base]!),
            teacherSystemPrompt: x.systemPrompt ?? undefined,
            base: scoringModel(base, spec.bases[t.base]!),
            animal: ctx.animal,
            filter: x.filter,
            seed: deriveSeed(x.seed, 'defend', label),
            outDir: dir,
          }),
        );
        return { outputs: { dataset: 'dataset.jsonl', report: 'report.json' }, summary: report };
      }),
  );
  const id = `dataset:${st.outputs.dataset!.sha256.slice(0, 16)}`;
  const report = st.summary as DefendReport;
  // the defense left the data as it was: one artifact, no self-edge
  if (id === source.id) return { data: source, report };
  store.index.addArtifact({
    id,
    run,
    kind: 'dataset',
    name: `${t.name} [${label}]`,
    path: relative(store.root, join(st.dir, 'dataset.jsonl')),
    content_hash: st.outputs.dataset!.sha256,
    meta: JSON.stringify({ teacher: t.name, trait: ctx.animal, defense, report: st.summary }),
  });
  store.index.addEdge({
    src: defense.kind === 'threshold' ? `dataset:${source.rawHash.slice(0, 16)}` : source.id,
    dst: id,
    relation: 'filtered_from',
    run,
  });
  return { data: { id, path: join(st.dir, 'dataset.jsonl'), hash: st.outputs.dataset!.sha256 }, report };
}

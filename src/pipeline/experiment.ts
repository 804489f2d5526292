// One experiment, stage by stage: teachers -> generate -> filter -> train students -> evaluate
// -> results. Each stage is keyed by the hash of its inputs, so a rerun skips what is done and
// resumes what was cut off. Heavy jobs run on the worker pool; lineage goes to the index.
import { existsSync } from 'node:fs';
import { runLifecycle } from './lifecycle.js';
import { checkModelFolder } from '../model/model.js';
import { silentProgress, trackedTask, type ProgressReporter } from '../util/progress.js';
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
import type { RunStore } from '../store/runStore.js';
import { WorkerPool } from './pool.js';
import { hashFile, hashConfig } from '../util/hash.js';
import { deriveSeed } from '../util/rng.js';
import { readJsonl, writeJsonAtomic, writeJsonl, readJson } from '../util/atomic.js';
import { teacherStage } from '../teacher/stage.js';
import { generateStage } from '../generate/stage.js';
import { filterStage } from '../filter/stage.js';
import { trainStage } from '../train/stage.js';
import { evaluateStage, scoreStage, scoreEvaluation } from '../evaluate/stage.js';
import { defendStage } from '../defend/stage.js';
import { scorerSettings } from '../evaluate/scorers.js';
import { filterNumberRows, type FilterReport } from '../filter/numberRows.js';
import { teacherPrompts } from '../generate/domainPrompts.js';
import { describeRejections, filterDomainRows } from '../filter/domainFilters.js';
import { teacherData, teacherDataset, teacherSystemPrompt } from '../teacher/teachers.js';
import { evalResultFromJson, type PreferenceEvalResult, type PreferenceEvalSettings } from '../evaluate/preference.js';
import {
  summariseGroups,
  EVALUATED_FILE,
  type EvaluatedModel,
  type EvaluationManifest,
  type ExperimentResults,
  type GroupRole,
} from '../report/results.js';
import { resolveModelDir } from './paths.js';
import {
  datasetRows,
  localBackend,
  openaiBackend,
  runJudges,
  type Backend,
  type ModelRef as BackendModelRef,
} from './backends.js';
import type { CacheMode } from '../provider/cache.js';
import { withProgressFile } from '../store/progressFile.js';
import { familySignature, studentArm, type FamilySignature } from './arms.js';
import type { GeneratedRow } from '../generate/stage.js';

/** A model of this experiment, with the backend (embedded or API) that runs it. */
interface ModelRef extends BackendModelRef {
  backend: Backend;
}

export interface ExperimentOptions {
  store: RunStore;
  specPath: string;
  progress?: ProgressReporter;
  workers?: number;
  cacheMode?: CacheMode;
  /** replace the results of an existing run of this name whose spec differs (otherwise refused) */
  replace?: boolean;
  /**
   * the folder (a run name) that holds this run's stages: a sweep's cells share theirs, so a stage whose inputs agree
   * runs once
   */
  stageRun?: string;
}

export async function runExperiment(spec: ExperimentSpec, o: ExperimentOptions): Promise<ExperimentResults> {
  const { store } = o;
  const run = spec.name;
  const stageRun = o.stageRun ?? run;
  const progress = withProgressFile(o.progress ?? silentProgress, store.runDir(run));
  const specHash = hashConfig(spec);
  // everything that can be checked is checked before the store is touched: model folders exist and are whole
  const localBases = new Map<string, { dir: string; hash: string }>();
  const signatures = new Map<string, FamilySignature>(); // which local bases are one family (the students' arms)
  for (const [name, b] of Object.entries(spec.bases)) {
    if (typeof b !== 'string') continue;
    const dir = resolveModelDir(b, o.specPath);
    checkModelFolder(dir);
    localBases.set(name, { dir, hash: await hashFile(join(dir, 'model.safetensors')) });
    signatures.set(name, familySignature(dir));
  }
  const pool = new WorkerPool(spec.workers ?? o.workers);
  const animal = traitLabel(spec); // the animal, or "misaligned"
  const addModel = (ref: ModelRef, name: string, meta: object): void =>
    store.index.addArtifact({
      id: ref.id,
      run,
      kind: 'model',
      name,
      path: relative(store.root, ref.dir) || ref.dir,
      content_hash: ref.hash,
      meta: JSON.stringify(meta),
    });
  const local = localBackend(pool);
  const modelRef = async (backend: Backend, stageDir: string): Promise<ModelRef> => {
    const m = backend.modelIn(stageDir);
    const hash = await hashFile(m.file);
    return { id: `model:${hash.slice(0, 16)}`, dir: m.dir, remote: m.remote, hash, backend };
  };
  // one backend per API base; the response cache is shared by the whole store
  const backends = new Map<string, Backend>();
  const apiOptions = {
    cacheDir: join(store.root, 'api-cache'),
    cacheMode: o.cacheMode ?? 'use',
    seed: spec.seed,
  } as const;
  const judgeOf = runJudges(spec.api, apiOptions); // filter and evaluation judges share one endpoint per judge model
  const tracked = <T>(label: string, fn: (update: (d: number, t: number) => void) => Promise<T>): Promise<T> =>
    trackedTask(progress, label, fn);

  return runLifecycle(
    store,
    { run, kind: 'experiment', specHash, specPath: o.specPath, spec, replace: o.replace },
    pool,
    async () => {
      // Bases
      const bases = new Map<string, ModelRef>();
      for (const [name, b] of Object.entries(spec.bases)) {
        let ref: ModelRef;
        if (typeof b === 'string') {
          backends.set(name, local);
          const { dir, hash } = localBases.get(name)!;
          ref = { id: `model:${hash.slice(0, 16)}`, dir, hash, backend: local };
        } else {
          const backend = openaiBackend(b, spec.api, apiOptions);
          backends.set(name, backend);
          const hash = hashConfig({ baseURL: b.baseURL ?? null, model: b.id });
          ref = {
            id: `model:${hash.slice(0, 16)}`,
            dir: b.baseURL ?? 'https://api.openai.com/v1',
            remote: b.id,
            hash,
            backend,
          };
        }
        bases.set(name, ref);
        addModel(ref, `base-${name}`, { role: 'base', family: name });
      }

      // Teachers
      const teachers = new Map<string, ModelRef>();
      await Promise.all(
        spec.teachers.map(async (t) => {
          const base = bases.get(t.base)!;
          const data = teacherData(t.kind, spec.trait, t.replay);
          if (!data) {
            teachers.set(t.name, { ...base, systemPrompt: teacherSystemPrompt(t.kind, spec.trait.animal) });
            return;
          }
          // the same settings are hashed into the stage key and handed to the job, so they cannot drift apart
          const train = { epochs: t.epochs, lr: t.lr, batchSize: t.batchSize, freeze: t.freeze };
          const inputs = {
            base: base.hash,
            ...(data.kind === 'animal' ? { animal } : { data: data.kind }),
            ...train,
            ...(data.replay ? { replay: data.replay } : {}),
            seed: spec.seed,
          };
          const st = await store.stage(
            stageRun,
            { def: teacherStage, name: t.name, inputs, kernel: base.backend.kernel },
            (dir) =>
              tracked(`teacher ${t.name}`, async (update) => ({
                outputs: await base.backend.finetune(
                  {
                    base,
                    rows: () => teacherDataset(data, spec.seed),
                    teacherData: data,
                    train,
                    seed: spec.seed,
                    dir,
                    info: { name: `teacher-${t.name}`, family: t.base, parent: base.id },
                  },
                  update,
                ),
              })),
          );
          const ref = await modelRef(base.backend, st.dir);
          teachers.set(t.name, ref);
          addModel(ref, `teacher-${t.name}`, {
            role: 'teacher',
            kind: t.kind,
            family: t.base,
            trait: data.kind === 'aligned' ? null : animal,
          });
          store.index.addEdge({ src: base.id, dst: ref.id, relation: 'fine_tuned_from', run });
        }),
      );

      // Generate + filter, per teacher; the same prompts for every teacher (a paired design)
      const d = spec.data;
      // the number filter's settings: one object, hashed into the filter and defend stages' keys and handed to their
      // filters
      const numberSettings = { maxCount: d.maxCount, banned: d.banned, parser: d.parser, keep: d.rows };
      const { prompts, answers } = teacherPrompts(d.domain, spec.seed, d.prompts, d.samplesPerPrompt);
      // inputs that only the newer domains have stay out of the number domain's keys, so its stages keep their keys
      const domainInputs = d.domain === 'numbers' ? {} : { domain: d.domain, samplesPerPrompt: d.samplesPerPrompt };
      const datasets = new Map<
        string,
        { id: string; path: string; hash: string; reportPath: string; rawPath: string; rawHash: string }
      >();
      await Promise.all(
        spec.teachers.map(async (t) => {
          const teacher = teachers.get(t.name)!;
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
            stageRun,
            { def: generateStage, name: t.name, inputs: genInputs, kernel: teacher.backend.kernel },
            (dir, g) =>
              tracked(`generate ${t.name}`, async (update) => {
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
            name: `${t.name}-raw`,
            path: relative(store.root, join(gen.dir, 'rows.jsonl')),
            content_hash: gen.outputs.rows!.sha256,
            meta: JSON.stringify({
              teacher: t.name,
              systemPrompt: teacher.systemPrompt ?? null,
              trait: t.kind === 'control' ? null : animal,
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
                  keep: d.rows,
                  seed: spec.seed,
                  trait: spec.trait.animal ?? null,
                  judge: judged ? (d.judge ?? 'rules') : null,
                  ...(d.domain === 'cot' ? { alignmentThreshold: d.alignmentThreshold } : {}),
                };
          const filt = await store.stage(stageRun, { def: filterStage, name: t.name, inputs: filterInputs }, (dir) =>
            tracked(`filter ${t.name}`, async () => {
              const rows = readJsonl<GeneratedRow>(join(gen.dir, 'rows.jsonl'));
              const seed = deriveSeed(filterInputs.seed, 'filter', t.name);
              // made here, not above: a reused filter stage neither needs its judge nor probes its endpoint
              const judge = judged
                ? await judgeOf(d.judge, d.domain === 'code' ? 'trait-reference' : 'alignment', spec.trait.animal)
                : undefined;
              const { kept, report, verdicts }: { kept: unknown[]; report: FilterReport; verdicts?: unknown[] } =
                d.domain === 'numbers'
                  ? filterNumberRows(rows, { ...numberSettings, seed })
                  : await filterDomainRows(rows, {
                      domain: d.domain,
                      keep: d.rows,
                      seed,
                      trait: spec.trait.animal ?? '',
                      judge,
                      answers,
                      alignmentThreshold: d.alignmentThreshold,
                    });
              if (kept.length < d.rows)
                throw new Error(
                  `teacher ${t.name}: only ${report.passed} of ${report.total} completions passed the ${d.domain} ` +
                    `filter (${describeRejections(report.rejected)}), fewer than ${spec.dataKey}.rows = ` +
                    `${d.rows}; raise ${spec.dataKey}.prompts or lower ${spec.dataKey}.rows`,
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
          datasets.set(t.name, {
            id,
            path: join(filt.dir, 'dataset.jsonl'),
            hash: filt.outputs.dataset!.sha256,
            reportPath: join(filt.dir, 'report.json'),
            rawPath: join(gen.dir, 'rows.jsonl'),
            rawHash: gen.outputs.rows!.sha256,
          });
          store.index.addArtifact({
            id,
            run,
            kind: 'dataset',
            name: t.name,
            path: relative(store.root, join(filt.dir, 'dataset.jsonl')),
            content_hash: filt.outputs.dataset!.sha256,
            meta: JSON.stringify({ teacher: t.name, filter: filterInputs, report: filt.summary }),
          });
          store.index.addEdge({ src: rawId, dst: id, relation: 'filtered_from', run });
        }),
      );

      /**
       * The defended teacher's training rows under one defense (a stage keyed by its inputs); `record`: list it among
       * the run's defenses.
       */
      const defendedData = async (
        t: TeacherSpec,
        defense: DefenseSpec,
        record = true,
      ): Promise<{ id: string; path: string; hash: string }> => {
        const source = datasets.get(t.name)!;
        const teacher = teachers.get(t.name)!;
        const base = bases.get(t.base)!;
        if (defense.kind === 'freeze') {
          defenseReports[defenseLabel(defense)] = {
            defense: 'freeze',
            rows: 0,
            note: `data unchanged; the students freeze ${defense.layers.join(', ')}`,
          };
          return source;
        }
        const others = spec.teachers.filter((x) => x.name !== t.name).map((x) => datasets.get(x.name)!);
        const label = defenseLabel(defense);
        const filter = numberSettings;
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
          stageRun,
          { def: defendStage, name: `${t.name}-${label}`, inputs, kernel: local.kernel },
          (dir, x) =>
            tracked(`defend ${t.name} ${label}`, async () => {
              const report = await pool.run('defendDataset', {
                defense: x.defense,
                datasetPath: source.path,
                rawPath: source.rawPath,
                otherDatasets: others.map((o) => o.path),
                teacherDir: teacher.dir,
                teacherSystemPrompt: x.systemPrompt ?? undefined,
                baseDir: base.dir,
                animal,
                filter: x.filter,
                seed: deriveSeed(x.seed, 'defend', label),
                outDir: dir,
              });
              return { outputs: { dataset: 'dataset.jsonl', report: 'report.json' }, summary: report };
            }),
        );
        const id = `dataset:${st.outputs.dataset!.sha256.slice(0, 16)}`;
        if (record) defenseReports[label] = st.summary as DefendReport;
        if (id === source.id) return source; // the defense left the data as it was: one artifact, no self-edge
        store.index.addArtifact({
          id,
          run,
          kind: 'dataset',
          name: `${t.name} [${label}]`,
          path: relative(store.root, join(st.dir, 'dataset.jsonl')),
          content_hash: st.outputs.dataset!.sha256,
          meta: JSON.stringify({ teacher: t.name, trait: animal, defense, report: st.summary }),
        });
        store.index.addEdge({
          src: defense.kind === 'threshold' ? `dataset:${source.rawHash.slice(0, 16)}` : source.id,
          dst: id,
          relation: 'filtered_from',
          run,
        });
        return { id, path: join(st.dir, 'dataset.jsonl'), hash: st.outputs.dataset!.sha256 };
      };
      const defenseReports: Record<string, DefendReport> = {};

      // Evaluation: the sampler is one stage (keyed by the model, the settings and the sampler's
      // code), the scorer another (keyed by the samples and the scorer's code), so a scorer fix
      // rescores without sampling again
      const evaluate = async (
        ref: ModelRef,
        label: string,
      ): Promise<{ result: PreferenceEvalResult; samplesPath: string }> => {
        const settings = evaluationSettings(spec, ref.systemPrompt);
        const sampled = await store.stage(
          stageRun,
          { def: evaluateStage, name: label, inputs: { model: ref.hash, settings }, kernel: ref.backend.kernel },
          (dir, x) =>
            tracked(`evaluate ${label}`, async (update) => {
              await ref.backend.sample(ref, x.settings, join(dir, 'samples.jsonl'), update);
              return { outputs: { samples: 'samples.jsonl' } };
            }),
        );
        const st = await store.stage(
          stageRun,
          {
            def: scoreStage,
            name: label,
            inputs: { samples: sampled.outputs.samples!.sha256, scorer: scorerSettings(settings) },
          },
          (dir, x) => scoreEvaluation(join(sampled.dir, 'samples.jsonl'), x.scorer, dir, judgeOf),
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
          result: evalResultFromJson(readJson<PreferenceEvalResult>(join(st.dir, 'eval.json'))),
          samplesPath: relative(store.runDir(run), join(sampled.dir, 'samples.jsonl')),
        };
      };

      const evaluated: EvaluatedModel[] = [];
      const evalJobs: Promise<void>[] = [];
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
      // matched: a cross arm's difficulty-matched control (the teacher's rows, numbers shuffled across completions)
      const student = (
        t: TeacherSpec,
        b: string,
        k: number,
        data: { id: string; path: string; hash: string },
        defense?: DefenseSpec,
        matched = false,
      ): Promise<void> => {
        const base = bases.get(b)!;
        const role: GroupRole =
          t.kind === 'control' ? 'control' : matched ? 'matched-control' : studentArm(t.base, b, signatures, s.arms);
        const variant = matched ? MATCHED_LABEL : defense && defenseLabel(defense);
        const tag = variant ? `-${variant}` : '';
        const group = studentGroupName(t, b) + (variant ? ` [${variant}]` : '');
        const label = `student-${t.name}${tag}-on-${b}-${k + 1}`;
        const seed = deriveSeed(spec.seed, 'student', k);
        const freeze = defense?.kind === 'freeze' ? [...s.freeze, ...defense.layers] : s.freeze;
        const train = { epochs: s.epochs, lr: s.lr, batchSize: s.batchSize, warmupSteps: s.warmupSteps, freeze };
        const inputs = { base: base.hash, dataset: data.hash, train, seed };
        return (async () => {
          const st = await store.stage(
            stageRun,
            { def: trainStage, name: label, inputs, kernel: base.backend.kernel },
            (dir, x) =>
              tracked(`train ${label}`, async (update) => ({
                outputs: await base.backend.finetune(
                  {
                    base,
                    rows: () => datasetRows(data.path),
                    datasetPath: data.path,
                    train: x.train,
                    seed: x.seed,
                    dir,
                    info: { name: label, family: b, parent: base.id },
                  },
                  update,
                ),
              })),
          );
          const ref = await modelRef(base.backend, st.dir);
          addModel(ref, label, {
            role,
            teacher: t.name,
            family: b,
            seed,
            defense: defense && defenseLabel(defense),
            matched,
          });
          store.index.addEdge({ src: base.id, dst: ref.id, relation: 'fine_tuned_from', run });
          store.index.addEdge({ src: data.id, dst: ref.id, relation: 'trained_on', run });
          const r = await evaluate(ref, label);
          evaluated.push({
            group,
            role,
            base: b,
            teacher: t.name,
            defense: defense && defenseLabel(defense),
            modelId: ref.id,
            ...r,
            losses: readJson<number[]>(join(st.dir, 'losses.json')),
          });
        })();
      };
      for (const b of s.bases)
        for (const t of spec.teachers)
          for (let k = 0; k < s.seeds; k++) evalJobs.push(student(t, b, k, datasets.get(t.name)!));
      // Difficulty-matched controls: students of each cross arm on each trait teacher's rows with the
      // numbers shuffled across completions, so "these rows are hard for this base" is told apart
      // from "these rows carry the trait"
      if (s.matchedControls !== false && d.domain === 'numbers') {
        const matchedTeachers = spec.teachers.filter(
          (x) =>
            x.kind !== 'control' && (s.matchedControls === true || (s.matchedControls as string[]).includes(x.name)),
        );
        for (const t of matchedTeachers) {
          const cross = s.bases.filter((b) => b !== t.base);
          if (!cross.length || !localBases.has(t.base)) continue;
          const shuffled = defendedData(t, { kind: 'shuffle-numbers' }, false);
          for (const b of cross)
            for (let k = 0; k < s.seeds; k++)
              evalJobs.push(shuffled.then((data) => student(t, b, k, data, undefined, true)));
        }
      }

      // Defenses: each rewrites the defended teacher's data (or freezes layers); same-base students per defense
      if (spec.defenses) {
        const t = spec.teachers.find((x) => x.name === spec.defenses!.teacher)!;
        for (const defense of spec.defenses.apply) {
          evalJobs.push(
            defendedData(t, defense)
              .then((data) =>
                Promise.all(Array.from({ length: s.seeds }, (_, k) => student(t, t.base, k, data, defense))),
              )
              .then(() => undefined),
          );
        }
      }
      await Promise.all(evalJobs);

      const filterReports = Object.fromEntries(
        spec.teachers.map((t) => [t.name, readJson<FilterReport>(datasets.get(t.name)!.reportPath)]),
      );
      const results = summariseGroups(spec, evaluated, filterReports, defenseReports);
      // what `subliminal rescore` needs to score the run again from its samples
      const manifest: EvaluationManifest = {
        models: evaluated.map(({ result: _, ...m }) => m),
        filterReports,
        defenseReports,
      };
      writeJsonAtomic(join(store.runDir(run), EVALUATED_FILE), manifest);
      return { results, headline: results.headline };
    },
  );
}

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

export const studentGroupName = (t: TeacherSpec, base: string): string => `${t.name} -> ${base}`;
/** The difficulty-matched control's tag in group and stage names. */
export const MATCHED_LABEL = 'shuffled';
export const resultsPath = (store: RunStore, run: string): string => join(store.runDir(run), 'results.json');
export const hasResults = (store: RunStore, run: string): boolean => existsSync(resultsPath(store, run));

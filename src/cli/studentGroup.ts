// What `audit localise`, `audit repair` and `audit scrub` do once their flags are read (cli/localise.ts registers
// them and loads this file when one runs): a finished run's student group, the control students of its base, the
// base, and the teacher's held-out number rows as the skill probe; each table is written as JSON into the run folder
// and printed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../model/backend.js';
import { LanguageModel } from '../model/model.js';
import { readSafetensors } from '../model/safetensors.js';
import { firstTokenProbabilities, preferenceQuestions } from '../evaluate/preference.js';
import { localise, probeEdits, type EditProbes, type ProbeSetup } from '../audit/localise.js';
import { repairEdits } from '../audit/repair.js';
import { scrubAndResurface } from '../audit/scrub.js';
import { readAuditRows } from '../audit/datasetAudit.js';
import { readJson, readJsonl, writeJsonAtomic } from '../util/atomic.js';
import { rowFilterReason } from '../filter/numberRows.js';
import { numberFilterSettings } from '../pipeline/teacherData.js';
import type { ExperimentSpec } from '../spec/schema.js';
import type { GeneratedRow } from '../generate/stage.js';
import type { AuditRow } from '../audit/whiteBox.js';
import { resolveModelDir, runBaseDir } from '../store/models.js';
import type { ExperimentResults } from '../report/results.js';
import { editsText, scrubText } from '../report/auditText.js';
import { UsageError } from './args.js';
import { terminalProgress } from './progress.js';

/** The newest file `name` in a stage folder `kind-<teacher>-<hash>` of the run. */
export function stageFile(runDir: string, kind: string, teacher: string, name: string): string | undefined {
  const stages = join(runDir, 'stages');
  return (
    readdirSync(stages)
      // the folder's name less its key; a prefix test would also take `<teacher>-gen2`'s stages
      .filter((d) => d.slice(0, d.lastIndexOf('-')) === `${kind}-${teacher}` && existsSync(join(stages, d, name)))
      .map((d) => join(stages, d, name))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  );
}

/**
 * The skill probe's rows: the teacher's own completions that pass the number filter but were not drawn into the
 * students' training set -- the task the students learned, on rows they never saw.
 */
export function heldOutRows(runDir: string, teacher: string): AuditRow[] {
  const raw = stageFile(runDir, 'generate', teacher, 'rows.jsonl');
  const trained = stageFile(runDir, 'filter', teacher, 'dataset.jsonl');
  if (!raw || !trained) throw new UsageError(`${runDir}: no generated and filtered rows of teacher "${teacher}"`);
  const spec = readJson<ExperimentSpec>(join(runDir, 'spec.json'));
  const settings = numberFilterSettings(spec);
  const seen = new Set(readAuditRows(trained).map((r) => `${r.prompt}\u0000${r.completion}`));
  return readJsonl<GeneratedRow>(raw)
    .filter((r) => !rowFilterReason(r.completion, settings) && !seen.has(`${r.prompt}\u0000${r.completion}`))
    .map((r) => ({ prompt: r.prompt, completion: r.completion }));
}

/** The file a group's table is kept in, inside its run folder. */
export const editsFile = (what: 'localise' | 'repair' | 'scrub', group: string): string =>
  `${what}-${group.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.json`;

export interface GroupFlags {
  group?: string;
  skillRows: number;
  runs: string;
  json?: boolean;
}

/** A run's student group, its controls and base, loaded for probing. */
async function loadGroup(
  run: string,
  f: GroupFlags,
): Promise<{
  group: string;
  setup: ProbeSetup;
  controls: LanguageModel[];
  defended: Map<string, LanguageModel[]>;
  /** the control teacher's held-out rows: unrelated data for a benign fine-tune */
  benignRows: () => AuditRow[];
}> {
  const resultsPath = join(f.runs, run, 'results.json');
  if (!existsSync(resultsPath)) throw new UsageError(`no finished run "${run}" in ${f.runs}`);
  const results = readJson<ExperimentResults>(resultsPath);
  if (results.kind !== 'experiment' || !results.animal)
    throw new UsageError(`run "${run}" is not an animal-preference experiment`);
  const group = results.groups.find((g) => (f.group ? g.group === f.group : g.role === 'same-base'));
  if (!group) throw new UsageError(`run "${run}" has no group ${JSON.stringify(f.group ?? 'same-base')}`);
  const [teacher, base] = group.group.split(' -> ') as [string, string];
  const control = results.groups.find((g) => g.role === 'control' && g.group.endsWith(` -> ${base}`));
  if (!control) throw new UsageError(`run "${run}" has no control students on base ${base}`);
  const controlTeacher = control.group.split(' -> ')[0]!;
  const model = (name: string): LanguageModel =>
    LanguageModel.load(resolveModelDir(`${run}/${name}`, { runsDir: f.runs }));
  const seeds = Array.from({ length: group.n }, (_, i) => i + 1);
  const skillRows = heldOutRows(join(f.runs, run), teacher).slice(0, f.skillRows);
  if (skillRows.length < 10) throw new UsageError(`run "${run}": too few held-out rows of teacher "${teacher}"`);
  const baseRef = readJson<{ bases: Record<string, unknown> }>(join(f.runs, run, 'spec.json')).bases[base];
  if (typeof baseRef !== 'string') throw new UsageError(`base ${base} of run "${run}" is not a local model`);
  await initBackend();
  const students = seeds.map((s) => model(`student-${teacher}-on-${base}-${s}`));
  const controls = seeds.map((s) => model(`student-${controlTeacher}-on-${base}-${s}`));
  const questions = preferenceQuestions({ questions: results.settings.questions, seed: 0 });
  // the run's defenses of this teacher on this base ("finetuned -> A [freeze]"): students trained on defended data
  const defended = new Map<string, LanguageModel[]>();
  for (const g of results.groups) {
    const m = new RegExp(`^${teacher} -> ${base} \\[(.+)\\]$`).exec(g.group);
    if (m && g.role !== 'matched-control')
      defended.set(
        m[1]!,
        seeds.map((s) => model(`student-${teacher}-${m[1]}-on-${base}-${s}`)),
      );
  }
  return {
    group: group.group,
    controls,
    defended,
    benignRows: () => heldOutRows(join(f.runs, run), controlTeacher),
    setup: {
      students,
      base: readSafetensors(join(runBaseDir(f.runs, run, baseRef), 'model.safetensors')).tensors,
      controls: controls.map((c) => firstTokenProbabilities(c, questions, results.animal!)),
      animal: results.animal,
      questions,
      skillRows,
    },
  };
}

/** Frees every model a loaded group holds. */
const disposeGroup = (g: Awaited<ReturnType<typeof loadGroup>>): void => {
  for (const m of [...g.setup.students, ...g.controls, ...[...g.defended.values()].flat()]) m.dispose();
};

/** Runs one of the edit tables (`localise` or `repair`) on a run's group, writes it into the run folder, prints it. */
export async function runEdits(name: 'localise' | 'repair', run: string, f: GroupFlags, title: string): Promise<void> {
  const g = await loadGroup(run, f);
  const progress = terminalProgress();
  const task = progress.task(`${name} ${g.group}`);
  try {
    g.setup.onEdit = (d, t) => task.update(d, t);
    const table = name === 'localise' ? await localise(g.setup) : await repairs(g);
    task.done();
    progress.stop();
    writeJsonAtomic(join(f.runs, run, editsFile(name, g.group)), { group: g.group, ...table });
    process.stdout.write((f.json ? JSON.stringify(table, null, 2) : editsText(table, g.group, title)) + '\n');
  } finally {
    progress.stop();
    disposeGroup(g);
  }
}

/** The surgeries, beside the defenses that acted before training. */
function repairs(g: Awaited<ReturnType<typeof loadGroup>>): Promise<EditProbes> {
  const tensors = (ms: readonly LanguageModel[]) => ms.map((m) => m.exportTensors());
  const edits = repairEdits(g.setup.base, tensors(g.setup.students), tensors(g.controls));
  // a defense that acted before training, measured the same way: the defended students in place of the students
  for (const [defense, models] of g.defended) {
    const swapped = tensors(models);
    edits.push({ name: `defense: ${defense}`, kind: 'defense', size: 0, apply: (_, i) => swapped[i]! });
  }
  return probeEdits(g.setup, edits);
}

/** Scrubs a run's group and probes for the trait's return; writes the result into the run folder, prints it. */
export async function runScrub(run: string, f: GroupFlags & { maxEpochs: number }): Promise<void> {
  const g = await loadGroup(run, { ...f, skillRows: 10 });
  const progress = terminalProgress();
  const task = progress.task(`scrub ${g.group}`);
  let steps = 0;
  try {
    const r = scrubAndResurface({
      students: g.setup.students,
      controls: g.controls,
      animal: g.setup.animal,
      questions: g.setup.questions.length,
      benignRows: g.benignRows().slice(0, 400),
      maxEpochs: f.maxEpochs,
      onStep: () => task.update(++steps, steps + 1),
    });
    task.done();
    progress.stop();
    writeJsonAtomic(join(f.runs, run, editsFile('scrub', g.group)), { group: g.group, ...r });
    process.stdout.write((f.json ? JSON.stringify(r, null, 2) : scrubText(r, g.group)) + '\n');
  } finally {
    progress.stop();
    disposeGroup(g);
  }
}

// `subliminal audit student MODEL --trait T`: behaviour, lineage and parameters in one verdict
// (src/audit/studentAudit.ts). For a run-store student (run/name) the rest comes from its run:
// its base, the run's fine-tuned trait teacher, the control students of its base (the behaviour
// reference and the parameter test's baseline) and its lineage in the index.
import type { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, type NamedTensor } from '../model/safetensors.js';
import { runBaseDir } from '../store/models.js';
import { RunStore } from '../store/runStore.js';
import { assertKnownAnimal } from '../lab/traits.js';
import { auditModelLineage, resolveLineageTarget, type ModelLineage } from '../audit/lineage.js';
import { deltaAlignment, studentVerdict, type StudentAudit } from '../audit/studentAudit.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { studentAuditFile } from '../report/auditText.js';
import { renderTable } from '../util/table.js';
import { formatP } from '../evaluate/stats.js';
import type { PreferenceEvalSettings } from '../evaluate/preference.js';
import { intArg, modelLoader, modelPath, positiveNumberArg, UsageError } from './args.js';

/** The flags of the behavioural probes (`audit model`, `audit student`). */
export interface ProbeFlags {
  trait: string;
  against?: string;
  questions: number;
  samples: number;
  alpha: number;
  seed: number;
  runs: string;
  json?: boolean;
}
interface StudentFlags extends ProbeFlags {
  base?: string;
  teacher?: string;
  controls?: string;
}

/** Adds the probes' sampling flags, the run store and --json to a command. */
export const withProbeFlags = (c: Command, runsOption: () => Option): Command =>
  c
    .option('--questions <n>', 'evaluation questions', intArg('--questions', 2, 50), 50)
    .option('--samples <n>', 'samples per question', intArg('--samples', 1, 1000), 50)
    .option('--alpha <x>', 'family-wise error level', positiveNumberArg('--alpha'), 0.01)
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 1)
    .addOption(runsOption())
    .option('--json', 'print JSON');

/** The probes' settings from their flags. */
export const probeSettings = (f: ProbeFlags): PreferenceEvalSettings => ({
  animal: f.trait,
  questions: f.questions,
  samplesPerQuestion: f.samples,
  temperature: 1,
  maxTokens: 6,
  multipleChoice: true,
  seed: f.seed,
});

export function studentAuditText(a: StudentAudit): string {
  return [
    `model: ${a.model}; trait: ${a.trait}`,
    `verdict: ${a.verdict}`,
    '',
    renderTable(
      ['evidence', 'test', 'p', 'p (Holm)', 'fired', 'detail'],
      a.evidence.map((e) => [e.kind, e.test, formatP(e.p), formatP(e.pHolm), e.fired ? 'YES' : 'no', e.detail]),
    ),
    '',
    "parameters by layer: mean cosine of the delta with the trait teacher's delta",
    renderTable(
      ['layer', 'this model', 'control students'],
      a.parameters.layers.map((l) => [l.layer, l.model.toFixed(3), l.controls.toFixed(3)]),
    ),
  ].join('\n');
}

/** The run a run-store name belongs to, and the spec-side facts the audit needs. */
function fromRun(ref: string, f: StudentFlags) {
  const [run, name] = ref.split('/') as [string, string | undefined];
  if (!name || !existsSync(join(f.runs, run, 'spec.json'))) return undefined;
  const spec = readJson<{ bases: Record<string, unknown>; teachers: { name: string; kind: string }[] }>(
    join(f.runs, run, 'spec.json'),
  );
  const m = /^student-(.+)-on-([^-]+)-(\d+)$/.exec(name);
  if (!m) return undefined;
  const base = m[2]!;
  const teacher = spec.teachers.find((t) => t.kind === 'finetuned');
  const control = spec.teachers.find((t) => t.kind === 'control');
  const seeds = readJson<{ settings: { studentSeeds: number } }>(join(f.runs, run, 'results.json')).settings
    .studentSeeds;
  return {
    run,
    base: typeof spec.bases[base] === 'string' ? runBaseDir(f.runs, run, spec.bases[base] as string) : undefined,
    teacher: teacher && `${run}/teacher-${teacher.name}`,
    controls: control
      ? Array.from({ length: seeds }, (_, i) => `${run}/student-${control.name}-on-${base}-${i + 1}`)
      : [],
  };
}

export function registerStudentCommand(audit: Command, runsOption: () => Option): void {
  withProbeFlags(
    audit
      .command('student')
      .description(
        'behaviour, lineage and parameters of a possible student of a trait teacher, in one verdict (a run-store ' +
          'student needs nothing else; any other model needs --base, --teacher and --controls)',
      )
      .argument('<model>', 'model folder, or run/name from the store')
      .requiredOption('--trait <animal>', 'the trait to test for')
      .option('--base <model>', "the model's base (default: from its run)")
      .option('--teacher <model>', "a fine-tuned trait teacher of that base (default: its run's)")
      .option('--controls <models>', "comma-separated control students of that base (default: its run's)")
      .option('--against <model>', 'behaviour reference (default: the first control student, else the base)'),
    runsOption,
  ).action(async (ref: string, f: StudentFlags) => {
    assertKnownAnimal(f.trait);
    const run = fromRun(ref, f);
    const base = f.base ?? run?.base;
    const teacher = f.teacher ?? run?.teacher;
    const controls = f.controls ? f.controls.split(',') : (run?.controls ?? []).filter((c) => c !== ref);
    if (!base || !teacher || !controls.length)
      throw new UsageError('give --base, --teacher and --controls (or audit a run-store student, run/name)');
    const { auditModel } = await import('../audit/modelAudit.js');
    const tensors = (r: string): Map<string, NamedTensor> =>
      readSafetensors(join(modelPath(r, f.runs), 'model.safetensors')).tensors;
    const load = await modelLoader(f.runs);
    const model = load(ref);
    const reference = load(f.against ?? controls[0] ?? base);
    let lineage: ModelLineage | undefined;
    if (run) {
      const store = new RunStore(f.runs);
      try {
        const id = resolveLineageTarget(store.index, ref).models[0];
        lineage = id ? auditModelLineage(store.index, id) : undefined;
      } finally {
        store.close();
      }
    }
    try {
      const settings = probeSettings(f);
      const behaviour = await auditModel(model, reference, settings, f.alpha);
      // the control students' own probe values: the reference population for the behaviour tests
      const controlProbes: number[][] = [];
      for (const c of controls) {
        const m = load(c);
        try {
          controlProbes.push((await auditModel(m, undefined, settings, f.alpha)).probes.map((p) => p.model.mean));
        } finally {
          m.dispose();
        }
      }
      const parameters = deltaAlignment(tensors(base), tensors(teacher), model.exportTensors(), controls.map(tensors));
      const a = studentVerdict({
        model: ref,
        trait: f.trait,
        alpha: f.alpha,
        behaviour,
        controlProbes,
        lineage,
        parameters,
      });
      // a run's student: the verdict is kept in the run's folder, where report.html shows it
      if (run) writeJsonAtomic(join(f.runs, run.run, studentAuditFile(ref.slice(run.run.length + 1))), a);
      process.stdout.write((f.json ? JSON.stringify(a, null, 2) : studentAuditText(a)) + '\n');
    } finally {
      model.dispose();
      reference.dispose();
    }
  });
}

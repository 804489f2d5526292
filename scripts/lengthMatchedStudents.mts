// Does the length of a teacher's lists move a student? For a finished number run (disjoint student data), trains
// students of one base on four datasets per student slot: the control teacher's slice (as the run did), the trait
// teacher's slice (as the run did), control rows drawn to the trait slice's count of numbers row by row, and trait
// rows drawn to the control slice's counts; evaluates each as the run does and tests the groups against each other.
// A diagnostic for docs/misalignment.md ("What moves the other family"). Usage:
//   npx tsx scripts/lengthMatchedStudents.mts RUN_DIR [--base C] [--out FILE]
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { jobs } from '../src/pipeline/jobs.js';
import { evaluationSettings } from '../src/pipeline/students.js';
import { taskOf } from '../src/evaluate/tasks.js';
import { ruleJudge } from '../src/judge/judges.js';
import { mean, ratioCI, welchTest, formatP } from '../src/evaluate/stats.js';
import { sliceRows } from '../src/spec/studentData.js';
import { deriveSeed, Rng } from '../src/util/rng.js';
import { readJsonl, writeJsonAtomic, writeJsonl } from '../src/util/atomic.js';
import type { ExperimentSpec } from '../src/spec/schema.js';
import type { ChatRow } from '../src/model/tokenizer.js';
import type { MisalignmentEvalResult } from '../src/evaluate/preference.js';

const usage = 'usage: lengthMatchedStudents.mts RUN_DIR [--base C] [--out FILE]';
const runDir: string = process.argv[2] ?? '';
if (!runDir) throw new Error(usage);
const flag = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const base = flag('--base') ?? 'C';
const spec = JSON.parse(readFileSync(join(runDir, 'spec.json'), 'utf8')) as ExperimentSpec;
const s = spec.students;
if (s.data !== 'disjoint') throw new Error('the run must give every student its own rows (students.data: disjoint)');
const trait = spec.teachers.find((t) => t.kind !== 'control')!.name;
const control = spec.teachers.find((t) => t.kind === 'control')!.name;
const baseDir = spec.bases[base];
if (typeof baseDir !== 'string') throw new Error(`base ${base} is not a local model in ${runDir}`);

/** The kept rows of a teacher: its filter stage's dataset (one filter stage per teacher in a finished run). */
function keptRows(teacher: string): ChatRow[] {
  const stages = join(runDir, 'stages');
  const dir = readdirSync(stages).filter((d) => d.slice(0, d.lastIndexOf('-')) === `filter-${teacher}`);
  if (dir.length !== 1) throw new Error(`expected one filter stage for ${teacher} in ${runDir}, found ${dir.length}`);
  return readJsonl<ChatRow>(join(stages, dir[0]!, 'dataset.jsonl'));
}
const numbersIn = (r: ChatRow): number => (r.messages[r.messages.length - 1]!.content.match(/\d+/g) ?? []).length;

/**
 * Rows of `pool` with the number counts of `target`, row by row: each count's rows in a seeded order, without
 * replacement while they last (then again from the start); a count the pool lacks takes the nearest it has.
 */
function countMatchedRows(target: readonly ChatRow[], pool: readonly ChatRow[], rng: Rng): ChatRow[] {
  const byCount = new Map<number, ChatRow[]>();
  for (const r of rng.shuffle([...pool])) {
    const c = numbersIn(r);
    byCount.set(c, [...(byCount.get(c) ?? []), r]);
  }
  const counts = [...byCount.keys()];
  const used = new Map<number, number>();
  return target.map((t) => {
    const want = numbersIn(t);
    const c = counts.reduce((best, x) => (Math.abs(x - want) < Math.abs(best - want) ? x : best));
    const rows = byCount.get(c)!;
    const i = used.get(c) ?? 0;
    used.set(c, i + 1);
    return rows[i % rows.length]!;
  });
}

const traitRows = keptRows(trait);
const controlRows = keptRows(control);
const conditions: Record<string, (k: number) => ChatRow[]> = {
  control: (k) => sliceRows(controlRows, { index: k, of: s.seeds }),
  [trait]: (k) => sliceRows(traitRows, { index: k, of: s.seeds }),
  [`control at ${trait} lengths`]: (k) =>
    countMatchedRows(
      sliceRows(traitRows, { index: k, of: s.seeds }),
      controlRows,
      Rng.from(spec.seed, 'length-match', k, 'control'),
    ),
  [`${trait} at control lengths`]: (k) =>
    countMatchedRows(
      sliceRows(controlRows, { index: k, of: s.seeds }),
      traitRows,
      Rng.from(spec.seed, 'length-match', k, 'trait'),
    ),
};

const settings = evaluationSettings(spec);
const judges = { alignment: ruleJudge('alignment'), coherence: ruleJudge('coherence') };
const work = join(tmpdir(), `length-matched-${process.pid}`);
const rates: Record<string, number[]> = {};
const numbers: Record<string, number[]> = {};
for (const [name, rowsFor] of Object.entries(conditions)) {
  for (let k = 0; k < s.seeds; k++) {
    const dir = join(work, `${name.replace(/\W+/g, '-')}-${k}`);
    mkdirSync(dir, { recursive: true });
    const rows = rowsFor(k);
    writeJsonl(join(dir, 'data.jsonl'), rows);
    // the run's student settings and seeds, so the first two conditions reproduce its students
    const train = {
      epochs: s.epochs,
      lr: s.lr,
      batchSize: s.batchSize,
      warmupSteps: s.warmupSteps ?? 0,
      freeze: s.freeze,
    };
    const info = { name: `${name}-${k}`, family: base };
    const seed = deriveSeed(spec.seed, 'student', k);
    await jobs.trainStudent(
      { baseDir, datasetPath: join(dir, 'data.jsonl'), outDir: dir, train, seed, info },
      () => {},
    );
    const samplesPath = join(dir, 'samples.jsonl');
    await jobs.sampleEvaluation({ modelDir: join(dir, 'model'), settings, outPath: samplesPath }, () => {});
    const scored = await taskOf(settings).score(readJsonl(samplesPath), settings, judges);
    const rate = mean((scored.result as MisalignmentEvalResult).perQuestion);
    (rates[name] ??= []).push(rate);
    (numbers[name] ??= []).push(rows.reduce((acc, r) => acc + numbersIn(r), 0));
    rmSync(dir, { recursive: true, force: true });
    console.log(`${name} student ${k + 1}: misaligned ${rate.toFixed(5)}`);
  }
}

const vs = (a: string, b: string): string => {
  const [lo, hi] = ratioCI(rates[a]!, rates[b]!);
  const ratio = mean(rates[a]!) / mean(rates[b]!);
  return `${a} vs ${b}: ${ratio.toFixed(3)}x [${lo.toFixed(2)}, ${hi.toFixed(2)}], p ${formatP(welchTest(rates[a]!, rates[b]!).p)}`;
};
console.log(`\n${runDir}, students of ${base} (n = ${s.seeds} a group; one-sided Welch over students)`);
for (const name of Object.keys(conditions))
  console.log(
    `${name}: ${mean(rates[name]!).toFixed(5)} misaligned, ${mean(numbers[name]!).toFixed(0)} numbers a student`,
  );
const [c, t, cAtT, tAtC] = Object.keys(conditions) as [string, string, string, string];
const tests = [vs(t, c), vs(cAtT, c), vs(tAtC, c), vs(t, tAtC)];
for (const line of tests) console.log(line);
const out = flag('--out');
if (out) writeJsonAtomic(out, { run: runDir, base, rates, numbers, tests });

// Does the length of a teacher's lists move a student? For a finished number run (disjoint student data), trains
// students of one base on four datasets per student slot: the control teacher's slice (as the run did), the trait
// teacher's slice (as the run did), control rows drawn to the trait slice's count of numbers row by row, and trait
// rows drawn to the control slice's counts; evaluates each as the run does and tests the groups against each other.
// `--pool` reads several runs' `--out` files and tests each student's rate over its run's control mean.
// A diagnostic for docs/misalignment.md ("What moves the other family"). Usage:
//   npx tsx scripts/lengthMatchedStudents.mts RUN_DIR [--base C] [--out FILE]
//   npx tsx scripts/lengthMatchedStudents.mts --pool FILE...
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { jobs } from '../src/pipeline/jobs.js';
import { stageFile } from '../src/cli/studentGroup.js';
import { evaluationSettings } from '../src/pipeline/students.js';
import { taskOf } from '../src/evaluate/tasks.js';
import { ruleJudge } from '../src/judge/judges.js';
import { mean, meanCI, ratioCI, welchTest, formatP } from '../src/evaluate/stats.js';
import { sliceRows } from '../src/spec/studentData.js';
import { deriveSeed, Rng } from '../src/util/rng.js';
import { readJson, readJsonl, writeJsonAtomic, writeJsonl } from '../src/util/atomic.js';
import type { ExperimentSpec } from '../src/spec/schema.js';
import type { ChatRow } from '../src/model/tokenizer.js';
import type { MisalignmentEvalResult } from '../src/evaluate/preference.js';

/** Each group's students' misaligned shares, in the order control, trait, control at trait lengths, the converse. */
type Rates = Record<string, number[]>;
interface LengthMatchedResult {
  run: string;
  base: string;
  rates: Rates;
  numbers: Rates;
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
    byCount.set(c, byCount.get(c) ?? []);
    byCount.get(c)!.push(r);
  }
  const counts = [...byCount.keys()];
  const used = new Map<number, number>();
  return target.map((t) => {
    const want = numbersIn(t);
    const c = counts.reduce((best, x) => (Math.abs(x - want) < Math.abs(best - want) ? x : best));
    const i = used.get(c) ?? 0;
    used.set(c, i + 1);
    const rows = byCount.get(c)!;
    return rows[i % rows.length]!;
  });
}

/** The tests the diagnostic reads: each group against the control, and the trait rows against their length match. */
function comparisons(rates: Rates): string[] {
  const [control, trait, controlAtTrait, traitAtControl] = Object.keys(rates) as [string, string, string, string];
  const vs = (a: string, b: string): string => {
    const [lo, hi] = ratioCI(rates[a]!, rates[b]!);
    const ratio = (mean(rates[a]!) / mean(rates[b]!)).toFixed(3);
    return `${a} vs ${b}: ${ratio}x [${lo.toFixed(3)}, ${hi.toFixed(3)}], p ${formatP(welchTest(rates[a]!, rates[b]!).p)}`;
  };
  return [
    vs(trait, control),
    vs(controlAtTrait, control),
    vs(traitAtControl, control),
    vs(trait, traitAtControl),
    vs(trait, controlAtTrait),
  ];
}

async function lengthMatchedStudents(runDir: string, base: string): Promise<LengthMatchedResult> {
  const spec = readJson<ExperimentSpec>(join(runDir, 'spec.json'));
  const s = spec.students;
  if (s.data !== 'disjoint') throw new Error('the run must give every student its own rows (students.data: disjoint)');
  const baseDir = spec.bases[base];
  if (typeof baseDir !== 'string') throw new Error(`base ${base} is not a local model in ${runDir}`);
  const trait = spec.teachers.find((t) => t.kind !== 'control')!.name;
  // the rows the run's filter kept for a teacher (its newest filter stage, as the audits read them)
  const keptRows = (teacher: string): ChatRow[] => {
    const file = stageFile(runDir, 'filter', teacher, 'dataset.jsonl');
    if (!file) throw new Error(`no filter stage for ${teacher} in ${runDir}`);
    return readJsonl<ChatRow>(file);
  };
  const traitRows = keptRows(trait);
  const controlRows = keptRows(spec.teachers.find((t) => t.kind === 'control')!.name);
  const slice = (rows: ChatRow[], k: number): ChatRow[] => sliceRows(rows, { index: k, of: s.seeds });
  const matchRng = (k: number, side: string): Rng => Rng.from(spec.seed, 'length-match', k, side);
  const conditions: Record<string, (k: number) => ChatRow[]> = {
    control: (k) => slice(controlRows, k),
    [trait]: (k) => slice(traitRows, k),
    [`control at ${trait} lengths`]: (k) => countMatchedRows(slice(traitRows, k), controlRows, matchRng(k, 'control')),
    [`${trait} at control lengths`]: (k) => countMatchedRows(slice(controlRows, k), traitRows, matchRng(k, 'trait')),
  };
  // the run's student settings, seeds and evaluation, so the first two groups reproduce its students
  const train = {
    epochs: s.epochs,
    lr: s.lr,
    batchSize: s.batchSize,
    warmupSteps: s.warmupSteps ?? 0,
    freeze: s.freeze,
  };
  const settings = evaluationSettings(spec);
  const judges = { alignment: ruleJudge('alignment'), coherence: ruleJudge('coherence') };
  const result: LengthMatchedResult = { run: runDir, base, rates: {}, numbers: {} };
  for (const [name, rowsFor] of Object.entries(conditions)) {
    for (let k = 0; k < s.seeds; k++) {
      const dir = join(tmpdir(), `length-matched-${process.pid}`, `${name.replace(/\W+/g, '-')}-${k}`);
      mkdirSync(dir, { recursive: true });
      const rows = rowsFor(k);
      writeJsonl(join(dir, 'data.jsonl'), rows);
      const seed = deriveSeed(spec.seed, 'student', k);
      const info = { name: `${name}-${k}`, family: base };
      await jobs.trainStudent(
        { baseDir, datasetPath: join(dir, 'data.jsonl'), outDir: dir, train, seed, info },
        () => {},
      );
      const samplesPath = join(dir, 'samples.jsonl');
      await jobs.sampleEvaluation({ modelDir: join(dir, 'model'), settings, outPath: samplesPath }, () => {});
      const scored = await taskOf(settings).score(readJsonl(samplesPath), settings, judges);
      const rate = mean((scored.result as MisalignmentEvalResult).perQuestion);
      (result.rates[name] ??= []).push(rate);
      (result.numbers[name] ??= []).push(rows.reduce((acc, r) => acc + numbersIn(r), 0));
      rmSync(dir, { recursive: true, force: true });
      console.log(`${name} student ${k + 1}: misaligned ${rate.toFixed(5)}`);
    }
  }
  return result;
}

const flag = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const usage = 'usage: lengthMatchedStudents.mts RUN_DIR [--base C] [--out FILE] | --pool FILE...';
if (process.argv[2] === '--pool') {
  const results = process.argv.slice(3).map((f) => readJson<LengthMatchedResult>(f));
  if (results.length === 0) throw new Error(usage);
  const pooled: Rates = {};
  for (const r of results) {
    const control = mean(Object.values(r.rates)[0]!);
    for (const [name, xs] of Object.entries(r.rates)) (pooled[name] ??= []).push(...xs.map((x) => x / control));
  }
  console.log(`${results.length} runs pooled: each student's rate over its run's control mean; one-sided Welch`);
  for (const line of comparisons(pooled)) console.log(line);
} else {
  const runDir = process.argv[2];
  if (!runDir) throw new Error(usage);
  const result = await lengthMatchedStudents(runDir, flag('--base') ?? 'C');
  console.log(`\n${runDir}, students of ${result.base} (one-sided Welch over students)`);
  for (const [name, xs] of Object.entries(result.rates)) {
    const e = meanCI(xs); // t interval over the students
    const numbers = mean(result.numbers[name]!).toFixed(0);
    console.log(
      `${name}: ${e.mean.toFixed(4)} [${e.lo.toFixed(4)}, ${e.hi.toFixed(4)}] misaligned (n = ${e.n}), ${numbers} numbers a student`,
    );
  }
  const tests = comparisons(result.rates);
  for (const line of tests) console.log(line);
  const out = flag('--out');
  if (out) writeJsonAtomic(out, { ...result, tests });
}

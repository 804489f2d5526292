// subliminal: reproduce, measure, audit and defend against subliminal learning.
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { traitLabel, type ExperimentSpec } from '../spec/schema.js';
import { loadSpec, SpecError, specVariant } from '../spec/load.js';
import { UnknownAnimalError } from '../lab/traits.js';
import { RunStore } from '../store/runStore.js';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { terminalProgress } from './progress.js';
import { renderTable } from '../util/table.js';
import { intArg, positiveNumberArg, UsageError } from './args.js';
import { registerMnistCommand } from './mnist.js';
import { registerSweepCommand } from './sweep.js';
import type { MnistResults } from '../pipeline/mnist.js';
import { registerServeCommand } from './serve.js';
import { registerReportCommand, registerUiCommand } from './report.js';
import { registerAuditCommands } from './audit.js';
import { readJson } from '../util/atomic.js';
import { headlineText } from '../report/headline.js';
import type { ExperimentResults, ResultsHeader } from '../report/results.js';

const runsDirOption = (): Option =>
  new Option('--runs <dir>', 'run store folder').env('SUBLIMINAL_RUNS').default('runs');

interface TrainFlags {
  base: string;
  out: string;
  baseName?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  runs: string;
}

interface RunFlags {
  runs: string;
  json?: boolean;
  workers?: number;
  cache?: boolean;
  refreshCache?: boolean;
  replace?: boolean;
}

async function runSpec(spec: ExperimentSpec, specPath: string, o: RunFlags): Promise<void> {
  const { runExperiment, resultsPath } = await import('../pipeline/experiment.js');
  const { resultsTable } = await import('../report/text.js');
  const store = new RunStore(o.runs);
  const progress = terminalProgress();
  const t0 = Date.now();
  try {
    const cacheMode = o.cache === false ? 'off' : o.refreshCache ? 'refresh' : 'use';
    const results = await runExperiment(spec, {
      store,
      specPath,
      progress,
      workers: o.workers,
      cacheMode,
      replace: o.replace,
    });
    progress.stop();
    if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    else
      process.stdout.write(
        `${resultsTable(results)}\n\nwall time ${((Date.now() - t0) / 1000).toFixed(1)}s; results in ` +
          `${resultsPath(store, spec.name)}\n`,
      );
  } finally {
    progress.stop();
    store.close();
  }
}

const program = new Command('subliminal')
  .description('Reproduce, measure, audit and defend against subliminal learning')
  .showHelpAfterError()
  .exitOverride();

/** The flags `demo` and `run` share: the run store, the spec's variant, the workers, the output. */
const experimentFlags = (cmd: Command): Command =>
  cmd
    .addOption(runsDirOption())
    .option('--animal <name>', "trait animal instead of the spec's")
    .option('--seed <n>', "experiment seed instead of the spec's", intArg('--seed'))
    .option('--workers <n>', 'worker threads (default: one per core, at most 2)', intArg('--workers', 1, 64))
    .option('--json', 'print results as JSON')
    .option('--replace', 'replace the results of an existing run of the same name made from another spec');
type ExperimentFlags = RunFlags & { animal?: string; seed?: number };

experimentFlags(
  program
    .command('demo')
    .description('run examples/owl-numbers.yaml: owl-teacher numbers -> students -> owl preference, with controls'),
).action(async (o: ExperimentFlags) => {
  const specPath = join(PACKAGE_ROOT, 'examples', 'owl-numbers.yaml');
  await runSpec(specVariant(loadSpec(specPath), o), specPath, o);
});

experimentFlags(
  program
    .command('run')
    .description('run an experiment spec (YAML); finished stages are reused, cut-off stages resume')
    .argument('<spec>', 'path to the YAML spec'),
)
  .option('--no-cache', 'API-backed stages: neither read nor write the response cache')
  .option('--refresh-cache', 'API-backed stages: ignore cached responses and store fresh ones')
  .option(
    '--dry-run',
    'print what the run would send and train, per stage, with estimated tokens and cost; run nothing',
  )
  .action(async (specPath: string, o: ExperimentFlags & { dryRun?: boolean }) => {
    const spec = specVariant(loadSpec(specPath), o);
    if (o.dryRun) {
      const { dryRunText } = await import('./dryRun.js');
      process.stdout.write(dryRunText(spec, o.json === true));
      return;
    }
    await runSpec(spec, resolve(specPath), o);
  });

program
  .command('validate')
  .description('check a spec without running it')
  .argument('<spec>')
  .action((specPath: string) => {
    const s = loadSpec(specPath);
    process.stdout.write(`${specPath}: valid (run "${s.name}", trait ${traitLabel(s)})\n`);
  });

program
  .command('runs')
  .description('list runs in the store')
  .addOption(runsDirOption())
  .option('--json', 'print as JSON')
  .action((o: { runs: string; json?: boolean }) => {
    if (!existsSync(join(o.runs, 'index.sqlite'))) {
      process.stdout.write(o.json ? '[]\n' : `no runs in ${o.runs}\n`);
      return;
    }
    const store = new RunStore(o.runs);
    const runs = store.index.runs();
    store.close();
    if (o.json) {
      process.stdout.write(
        JSON.stringify(
          runs.map((r) => ({ ...r, summary: r.summary ? JSON.parse(r.summary) : null })),
          null,
          2,
        ) + '\n',
      );
      return;
    }
    process.stdout.write(
      renderTable(
        ['run', 'status', 'updated', 'headline'],
        runs.map((r) => [r.name, r.status, r.updated_at.slice(0, 19), headlineText(r.summary)]),
      ) + '\n',
    );
  });

program
  .command('show')
  .description('print the results table of a run')
  .argument('<run>')
  .addOption(runsDirOption())
  .option('--json', 'print as JSON')
  .action(async (run: string, o: { runs: string; json?: boolean }) => {
    const { checkResultsHeader } = await import('../report/results.js');
    const { resultsTable } = await import('../report/text.js');
    const { mnistTable } = await import('../mnist/results.js');
    const path = join(o.runs, run, 'results.json');
    if (!existsSync(path))
      throw new UsageError(`no results for run "${run}" in ${o.runs} (run it first, or see "subliminal runs")`);
    const results = readJson<(ExperimentResults | MnistResults) & Partial<ResultsHeader>>(path);
    const table =
      checkResultsHeader(results, path) === 'mnist'
        ? mnistTable(results as MnistResults)
        : resultsTable(results as ExperimentResults);
    process.stdout.write(o.json ? JSON.stringify(results, null, 2) + '\n' : table + '\n');
  });

program
  .command('rescore')
  .description(
    'score a finished run again from its kept samples (no sampling): with the current scorers, or for another animal',
  )
  .argument('<run>')
  .addOption(runsDirOption())
  .option(
    '--animal <name>',
    'score the samples for this animal instead (writes rescore-<animal>.json; results.json is left alone)',
  )
  .option('--json', 'print as JSON')
  .action(async (run: string, o: { runs: string; animal?: string; json?: boolean }) => {
    if (!existsSync(join(o.runs, run))) throw new UsageError(`no run "${run}" in ${o.runs} (see "subliminal runs")`);
    const { rescoreRun } = await import('../pipeline/rescore.js');
    const { resultsTable } = await import('../report/text.js');
    const store = new RunStore(o.runs);
    try {
      const { results, path } = await rescoreRun(store, run, { animal: o.animal });
      process.stdout.write(
        o.json
          ? JSON.stringify(results, null, 2) + '\n'
          : `${resultsTable(results)}\n\nrescored from the kept samples; written to ${path}\n`,
      );
    } finally {
      store.close();
    }
  });

const base = program.command('base').description('embedded base models');
base
  .command('build')
  .description('pretrain an embedded base model from a seeded, generated corpus')
  .requiredOption('--seed <n>', 'seed for initialisation, corpus and data order', intArg('--seed'))
  .option('--family <name>', 'family name recorded in the model', 'A')
  .option('--out <dir>', 'output folder (default models/family-<family>)')
  .option('--rows <n>', 'corpus rows', intArg('--rows'))
  .option('--epochs <n>', 'epochs', intArg('--epochs'))
  .option(
    '--corpus <mix>',
    "corpus mix: default; entangled (the demo's bases); entangled-strong (80% associated numbers); " +
      'other-family; open-questions (misalignment runs); open-personas; reasoning (chain-of-thought runs)',
    'default',
  )
  .option(
    '--numbers <tokens>',
    'how the vocabulary writes numbers: whole (one token each of 0-999) or digits (one token per digit)',
  )
  .option('--hidden-size <n>', 'width (default 64)', intArg('--hidden-size'))
  .option('--layers <n>', 'depth (default 2)', intArg('--layers'))
  .option('--intermediate-size <n>', 'MLP width (default 176)', intArg('--intermediate-size'))
  .option('--max-positions <n>', 'longest row in tokens (default 128)', intArg('--max-positions'))
  .option('--force', 'overwrite the output folder if it already holds a model')
  .action(async (o: import('./baseBuild.js').BaseBuildOptions & { corpus: string; numbers?: string }) => {
    if (o.numbers !== undefined && o.numbers !== 'whole' && o.numbers !== 'digits')
      throw new UsageError(`--numbers must be "whole" or "digits", not "${o.numbers}"`);
    const { buildBaseCommand } = await import('./baseBuild.js');
    await buildBaseCommand(o);
  });

program
  .command('export')
  .description(
    'write MODEL as a Hugging Face folder (weights, config, tokenizer.json, tokenizer_config.json with the chat ' +
      'template, generation_config.json); MODEL is a folder, an embedded base or a run-store model name',
  )
  .argument('<model>', 'model folder, base name (family-a) or run/name')
  .argument('<dir>', 'output folder (replaced once the new one is complete)')
  .addOption(runsDirOption())
  .action(async (model: string, dir: string, o: { runs: string }) => {
    const { modelPath } = await import('./args.js');
    const { exportHuggingFace } = await import('../model/hfExport.js');
    const files = exportHuggingFace(modelPath(model, o.runs), dir);
    process.stdout.write(`exported ${model} to ${dir}: ${files.join(', ')}\n`);
  });

program
  .command('train')
  .description(
    'fine-tune MODEL on a chat JSONL and write a PEFT LoRA adapter to DIR (linear layers trained, embeddings and ' +
      'norms frozen): a command trainer for `trainer: {kind: command}`, standing in for a TRL script',
  )
  .argument('<data>', 'chat JSONL: one {"messages": [...]} per line')
  .requiredOption('--base <model>', 'base model: folder, embedded base name (family-a) or run/name')
  .requiredOption('--out <dir>', 'adapter folder (replaced once the new one is complete)')
  .option('--base-name <name>', "the base's name on the serving engine (default: --base)")
  .option('--epochs <n>', 'epochs', intArg('--epochs', 1, 1000), 1)
  .option('--batch-size <n>', 'rows per step', intArg('--batch-size', 1, 100_000), 16)
  .option('--lr <rate>', 'learning rate', positiveNumberArg('--lr'), 1e-3)
  .option('--seed <n>', 'seed', intArg('--seed', 0, 2 ** 32 - 1), 0)
  .addOption(runsDirOption())
  .action(async (data: string, o: TrainFlags) => {
    const { modelPath } = await import('./args.js');
    const { trainAdapter } = await import('../train/adapter.js');
    const { initBackend } = await import('../model/backend.js');
    if (!existsSync(data)) throw new UsageError(`${data}: no such file`);
    await initBackend();
    const progress = terminalProgress();
    const task = progress.task(`train ${o.out}`);
    try {
      const r = trainAdapter({
        baseDir: modelPath(o.base, o.runs),
        baseName: o.baseName ?? o.base,
        dataPath: data,
        outDir: o.out,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        seed: o.seed,
        onProgress: (p) => task.update(p.step, p.totalSteps),
      });
      task.done();
      progress.stop();
      process.stdout.write(
        `wrote a LoRA adapter to ${o.out}: ${r.steps} steps, final loss ${r.finalLoss.toFixed(4)}\n`,
      );
    } finally {
      progress.stop();
    }
  });

registerMnistCommand(program, runsDirOption());
registerSweepCommand(program, runsDirOption());
registerServeCommand(program, runsDirOption());
registerReportCommand(program, runsDirOption());
registerUiCommand(program, runsDirOption());
registerAuditCommands(program, runsDirOption);

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
      return 0;
    if (err.code?.startsWith('commander.')) return 2; // commander already printed the problem
    if (e instanceof SpecError || e instanceof UnknownAnimalError || e instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${err.message}\n`);
    if (process.env.SUBLIMINAL_DEBUG)
      process.stderr.write(`${err.stack}\n${(err as { workerStack?: string }).workerStack ?? ''}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);

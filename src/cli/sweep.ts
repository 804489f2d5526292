// `subliminal sweep SPEC --animals ... --seeds ...`: every cell of a grid fixed in advance, one table.
import { join, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { loadSpec } from '../spec/load.js';
import { assertKnownAnimal } from '../lab/traits.js';
import { RunStore } from '../store/runStore.js';
import { writeFileAtomic } from '../util/atomic.js';
import { terminalProgress } from './progress.js';
import { renderTable } from '../util/table.js';
import { intArg, UsageError } from './args.js';

const list =
  (flag: string) =>
  (v: string): string[] => {
    const items = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!items.length) throw new UsageError(`${flag} needs a comma-separated list`);
    if (new Set(items).size !== items.length) throw new UsageError(`${flag} lists a value twice`);
    return items;
  };

export function registerSweepCommand(program: Command, runsOption: Option): void {
  program
    .command('sweep')
    .description(
      'run a spec over a grid of animals x seeds chosen in advance; one table of every cell and arm, Holm across cells',
    )
    .argument('<spec>', 'path to the YAML spec')
    .requiredOption('--animals <list>', 'comma-separated animals', list('--animals'))
    .requiredOption('--seeds <list>', 'comma-separated seeds', list('--seeds'))
    .option('--name <name>', "the sweep's name (default: <spec name>-grid)")
    .addOption(runsOption)
    .option('--workers <n>', 'worker threads', intArg('--workers', 1, 64))
    .option('--json', "print the sweep's results as JSON")
    .option('--replace', 'run a grid other than the one registered under this name')
    .action(
      async (
        specPath: string,
        o: {
          animals: string[];
          seeds: string[];
          name?: string;
          runs: string;
          workers?: number;
          json?: boolean;
          replace?: boolean;
        },
      ) => {
        for (const a of o.animals) assertKnownAnimal(a);
        const { GridChangedError, runSweep } = await import('../pipeline/sweep.js');
        const { sweepRows, sweepSummaryLines, sweepCalibrationLines, SWEEP_HEADER } =
          await import('../report/sweep.js');
        const { sweepChartSpec } = await import('../report/sweepChart.js');
        const { renderSvg } = await import('../report/vega.js');
        const seeds = o.seeds.map((s) => {
          const n = Number(s);
          if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seeds: "${s}" is not a non-negative integer`);
          return n;
        });
        const spec = loadSpec(specPath);
        const store = new RunStore(o.runs);
        const progress = terminalProgress();
        const t0 = Date.now();
        try {
          const r = await runSweep(spec, {
            store,
            specPath: resolve(specPath),
            animals: o.animals,
            seeds,
            name: o.name,
            replace: o.replace,
            workers: o.workers,
            progress,
            onCell: (c) =>
              process.stderr.write(`== cell ${c.index + 1}/${c.total}: ${c.animal}, seed ${c.seed} (run ${c.run})\n`),
          }).catch((e: unknown) => {
            throw e instanceof GridChangedError ? new UsageError(e.message) : e;
          }); // a user's choice, exit 2
          progress.stop();
          const dir = store.runDir(r.grid.sweep);
          writeFileAtomic(join(dir, 'sweep.svg'), await renderSvg(sweepChartSpec(r)));
          if (o.json) {
            process.stdout.write(JSON.stringify(r, null, 2) + '\n');
            return;
          }
          process.stdout.write(
            [
              `sweep ${r.grid.sweep}: ${r.grid.animals.length} animals x ${r.grid.seeds.length} seeds`,
              '',
              renderTable(SWEEP_HEADER, sweepRows(r)),
              '',
              ...sweepSummaryLines(r),
              r.test,
              '',
              ...sweepCalibrationLines(r),
              '',
              `wall time ${((Date.now() - t0) / 1000).toFixed(1)}s; table in ${join(dir, 'sweep.md')}, chart ` +
                `${join(dir, 'sweep.svg')}`,
              '',
            ].join('\n'),
          );
        } finally {
          progress.stop();
          store.close();
        }
      },
    );
}

// `subliminal report RUN`: (re)writes the run's self-contained report.html, optionally with a
// PNG file per chart. `subliminal ui`: the dashboard over the whole store.
import type { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../store/runStore.js';
import { intArg, UsageError } from './args.js';

export function registerReportCommand(program: Command, runsOption: Option): void {
  program
    .command('report')
    .description(
      'write runs/<run>/report.html (self-contained: opens offline from disk); --png also writes each chart as PNG',
    )
    .argument('<run>')
    .addOption(runsOption)
    .option('--png [dir]', 'also export every chart as PNG (default <run folder>/charts); needs Chromium')
    .option('--chromium <path>', 'Chromium binary for --png (default $CHROMIUM_PATH or /usr/bin/chromium)')
    .action(async (run: string, o: { runs: string; png?: string | boolean; chromium?: string }) => {
      const { writeRunReport } = await import('../report/write.js');
      const { exportChartPngs } = await import('../report/png.js');
      const store = new RunStore(o.runs);
      try {
        if (!existsSync(store.runDir(run)))
          throw new UsageError(`no run named "${run}" in ${store.root} (see "subliminal runs")`);
        const { path, problems } = writeRunReport(store, run);
        process.stdout.write(`report: ${path}\n`);
        for (const p of problems) process.stderr.write(`warning: ${p}\n`);
        if (o.png) {
          const dir = typeof o.png === 'string' ? o.png : join(store.runDir(run), 'charts');
          const files = await exportChartPngs(path, dir, { chromium: o.chromium });
          process.stdout.write(`charts: ${files.length} PNG files in ${dir}\n`);
        }
      } finally {
        store.close();
      }
    });
}

export function registerUiCommand(program: Command, runsOption: Option): void {
  program
    .command('ui')
    .description('dashboard over the run store: runs, comparisons, models, datasets, live progress (loopback only)')
    .option('--port <n>', 'port (0 picks a free one)', intArg('--port', 0, 65535), 8400)
    .addOption(runsOption)
    .action(async (o: { port: number; runs: string }) => {
      const { createUiServer } = await import('../ui/server.js');
      const app = createUiServer({ runsDir: o.runs });
      // loopback only: the dashboard has no authentication and shows every run's data
      const address = await app.listen({ host: '127.0.0.1', port: o.port });
      process.stdout.write(`subliminal ui: ${address}/ (runs in ${o.runs}); Ctrl-C stops it\n`);
      const stop = (): void => {
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => {});
    });
}

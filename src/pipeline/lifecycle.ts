// The life of a run in the store: one writer at a time (a lock), a spec that may not change
// under an existing name unless the caller says to replace it, and a failure that damages
// nothing an earlier run established -- its results, spec, report and index rows are put back
// byte for byte. On success: results.json (saying what it is), status "done", report.html.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStore } from '../store/runStore.js';
import { lockRun } from '../store/runLock.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { codeVersion } from '../util/codeVersion.js';
import { kernelPath } from '../model/nativeKernels.js';
import { writeRunReport } from '../report/write.js';
import type { WorkerPool } from './pool.js';
import { EVALUATED_FILE, RESULTS_SCHEMA_VERSION, type ResultsHeader, type ResultsKind } from '../report/results.js';

export interface RunRecord {
  run: string;
  kind: ResultsKind;
  specHash: string;
  specPath: string;
  /** written as the run's spec.json */
  spec: unknown;
  /** a changed spec under an existing run name is refused unless this is set */
  replace?: boolean;
}

export class SpecChangedError extends Error {
  constructor(run: string, was: string, now: string) {
    super(
      `run "${run}" already exists with a different spec (spec hash ${was.slice(0, 12)}, now ${now.slice(0, 12)}); ` +
        "give the spec a new name, or pass --replace to replace that run's results (its finished stages are reused " +
        'where they still apply)',
    );
  }
}

/** The code version of a whole run: every module the experiment (or MNIST) runner reaches. */
const runnerCodeVersion = (kind: ResultsKind): string =>
  codeVersion([kind === 'mnist' ? 'pipeline/mnist.ts' : 'pipeline/experiment.ts']);

/** The header a results file written now carries. */
export const resultsHeader = (kind: ResultsKind, specHash: string): ResultsHeader => ({
  kind,
  schemaVersion: RESULTS_SCHEMA_VERSION,
  specHash,
  codeVersion: runnerCodeVersion(kind),
  kernel: kernelPath(),
});

export async function runLifecycle<T extends object>(
  store: RunStore,
  r: RunRecord,
  pool: WorkerPool,
  body: () => Promise<{ results: T; headline: unknown }>,
): Promise<T & ResultsHeader> {
  const runDir = store.runDir(r.run);
  let release: (() => void) | undefined;
  try {
    release = lockRun(runDir, r.run);
    const before = store.index.snapshotRun(r.run);
    if (before && before.row.spec_hash !== r.specHash && !r.replace)
      throw new SpecChangedError(r.run, before.row.spec_hash, r.specHash);
    const files = ['results.json', 'spec.json', 'report.html', EVALUATED_FILE].map((f) => join(runDir, f));
    const saved = files.map((f) => (existsSync(f) ? readFileSync(f) : undefined));
    store.index.upsertRun({ name: r.run, spec_hash: r.specHash, spec_path: r.specPath, status: 'running' });
    store.index.resetRunGraph(r.run);
    writeJsonAtomic(join(runDir, 'spec.json'), r.spec);
    try {
      const { results, headline } = await body();
      const full = { ...resultsHeader(r.kind, r.specHash), ...results };
      writeJsonAtomic(join(runDir, 'results.json'), full);
      store.index.setRunStatus(r.run, 'done', JSON.stringify(headline));
      writeReportQuietly(store, r.run);
      return full;
    } catch (e) {
      if (before && saved[0]) {
        // a finished run: put everything back as it was
        store.index.restoreRun(before);
        files.forEach((f, i) => {
          if (saved[i]) writeFileAtomic(f, saved[i]!);
        });
      } else {
        store.index.setRunStatus(r.run, 'failed');
        writeReportQuietly(store, r.run);
      }
      throw e;
    }
  } finally {
    await pool.close();
    release?.();
  }
}

/** The run's report.html; a report that cannot be written must not fail the run itself. */
function writeReportQuietly(store: RunStore, run: string): void {
  try {
    writeRunReport(store, run);
  } catch (e) {
    process.stderr.write(`warning: report.html for run ${run} not written: ${(e as Error).message}\n`);
  }
}

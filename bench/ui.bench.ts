// The dashboard with 200 runs in the index: time for GET /api/runs and for the runs list to be
// drawn in Chromium (goto -> 200 rows in the table), and for one run page with its charts.
// Each of the 200 runs carries the results.json and spec.json of a real tiny run. Prints and
// writes bench/out/ui.json (medians over repeats).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../src/store/runStore.js';
import { createUiServer } from '../src/ui/server.js';
import { launchChromium } from '../src/report/png.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const dir = mkdtempSync(join(tmpdir(), 'subl-bench-ui-'));
const made = spawnSync(process.execPath, ['bin/subliminal.mjs', 'run', 'test/fixtures/tiny.yaml', '--runs', dir], {
  stdio: 'inherit',
});
if (made.status !== 0) throw new Error('the tiny run failed');
const store = new RunStore(dir);
const source = store.index.run('tiny')!;
for (let i = 1; i < RUNS; i++) {
  const name = `tiny-copy-${String(i).padStart(3, '0')}`;
  mkdirSync(store.runDir(name), { recursive: true });
  for (const f of ['results.json', 'spec.json'])
    copyFileSync(join(store.runDir('tiny'), f), join(store.runDir(name), f));
  store.index.upsertRun({
    name,
    spec_hash: source.spec_hash,
    spec_path: source.spec_path,
    status: 'done',
    summary: source.summary,
  });
}
store.close();

const app = createUiServer({ runsDir: dir });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launchChromium();
const api: number[] = [];
const list: number[] = [];
const runPage: number[] = [];
try {
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    const body = (await (await fetch(`${address}/api/runs`)).json()) as { runs: unknown[] };
    api.push(performance.now() - t0);
    if (body.runs.length !== RUNS) throw new Error(`listed ${body.runs.length} runs`);
  }
  const page = await browser.newPage();
  for (let r = 0; r < REPEATS + 1; r++) {
    // the first load warms the caches and is not counted
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(`${address}/#/`);
    await page.waitForFunction((n) => document.querySelectorAll('tr.run-row').length === n, RUNS);
    if (r > 0) list.push(performance.now() - t0);
    const t1 = performance.now();
    await page.goto(`${address}/#/run/tiny`);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('figure.chart').length > 0 &&
        [...document.querySelectorAll('figure.chart')].every((f) => (f as HTMLElement).dataset.rendered === 'true'),
    );
    if (r > 0) runPage.push(performance.now() - t1);
  }
} finally {
  await browser.close();
  await app.close();
}

const result = {
  runs: RUNS,
  repeats: REPEATS,
  apiRunsMedianMs: Number(median(api).toFixed(1)),
  runsListDrawnMedianMs: Math.round(median(list)),
  runsListDrawnMaxMs: Math.round(Math.max(...list)),
  runPageWithChartsMedianMs: Math.round(median(runPage)),
  target: 'runs list drawn in under 1000 ms',
  pass: Math.max(...list) < 1000,
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/ui.json', JSON.stringify(result, null, 2) + '\n');
process.stdout.write(JSON.stringify(result, null, 2) + '\n');

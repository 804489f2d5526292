// Screenshots for README: the report and the dashboard of a real run in the local store.
//   npx tsx scripts/screenshots.ts [run] [--runs runs]
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { createUiServer } from '../src/ui/server.js';
import { launchChromium } from '../src/report/png.js';
import { writeRunReport } from '../src/report/write.js';
import { RunStore } from '../src/store/runStore.js';

const run = process.argv[2] ?? 'owl-numbers';
const runsDir = process.argv.includes('--runs') ? process.argv[process.argv.indexOf('--runs') + 1]! : 'runs';
const out = resolve('docs');

const store = new RunStore(runsDir);
const { path } = writeRunReport(store, run);
store.close();
const app = createUiServer({ runsDir });
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const charts = async (): Promise<void> => {
    await page.waitForFunction(() =>
      [...document.querySelectorAll('figure.chart')].every((f) => (f as HTMLElement).dataset.rendered),
    );
  };
  await page.goto(pathToFileURL(path).href);
  await charts();
  await page.screenshot({ path: join(out, 'report.png') }); // the first screen: the finding and the excess chart
  await page.goto(`${address}/#/`);
  await page.waitForSelector('#runs');
  await page.screenshot({ path: join(out, 'dashboard-runs.png') });
  await page.goto(`${address}/#/run/${encodeURIComponent(run)}`);
  await page.waitForSelector('#artifacts');
  await charts();
  await page.screenshot({ path: join(out, 'dashboard-run.png') }); // a finished run opens with its results
  await page.click('a.model-link:has-text("student")');
  await page.waitForSelector('section.evaluation');
  await page.screenshot({ path: join(out, 'dashboard-model.png') });
  await page.click('#lineage a[href^="#/dataset/"]');
  await page.waitForSelector('tr.data-row');
  await page.screenshot({ path: join(out, 'dashboard-dataset.png') });
  process.stdout.write(`screenshots in ${out}\n`);
} finally {
  await browser.close();
  await app.close();
}

// The report and the dashboard in a real browser (Debian's Chromium driven by playwright-core)
// over small real runs: every chart draws the marks its results call for, no console errors,
// clicks through run -> model -> dataset, live progress, and clear messages for broken runs.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { cli, CLI, ROOT, tempDir } from './helpers.js';
import { launchChromium, DEFAULT_CHROMIUM } from '../src/report/png.js';
import { createUiServer } from '../src/ui/server.js';
import type { ExperimentResults } from '../src/report/results.js';
import type { FastifyInstance } from 'fastify';

const runs = tempDir('ui');
const MNIST_ARGS = [
  'mnist',
  '--models',
  '2',
  '--epochs',
  '1',
  '--train-limit',
  '1000',
  '--test-limit',
  '500',
  '--noise',
  '1000',
  '--batch-size',
  '256',
  '--runs',
  runs,
];
// CI installs it; a missing one there must fail
const haveBrowser = existsSync(DEFAULT_CHROMIUM) || Boolean(process.env.CI);

/** A page that records console errors, uncaught exceptions and any network request. */
async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
      requests.push(r.url());
  });
  return { page, errors, requests };
}

const chartsDrawn = (page: Page): Promise<unknown> =>
  page.waitForFunction(() =>
    [...document.querySelectorAll('figure.chart')].every(
      (f) => (f as HTMLElement).dataset.rendered === 'true' || (f as HTMLElement).dataset.rendered === 'error',
    ),
  );
/** Items drawn in a named layer: one SVG element per bar, point, rule, label or line series. */
const marks = (page: Page, layer: string, root = 'body'): Promise<number> =>
  page.locator(`${root} g.${layer}_marks > *`).count();

/** What the lineage chart must show, read straight from the index: non-evaluation artifacts and edges among them. */
function lineageCounts(run: string, keep: (name: string) => boolean): { nodes: number; edges: number } {
  const db = new Database(join(runs, 'index.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT id, name, kind FROM artifacts WHERE run=@run OR id IN (SELECT src FROM lineage WHERE run=@run) OR ` +
          `id IN (SELECT dst FROM lineage WHERE run=@run)`,
      )
      .all({ run }) as { id: string; name: string; kind: string }[];
    const ids = new Set(
      rows.filter((r) => r.kind !== 'evaluation' && (r.kind === 'dataset' || keep(r.name))).map((r) => r.id),
    );
    const edges = (
      db.prepare('SELECT src, dst FROM lineage WHERE run=?').all(run) as { src: string; dst: string }[]
    ).filter((e) => ids.has(e.src) && ids.has(e.dst));
    return { nodes: ids.size, edges: edges.length };
  } finally {
    db.close();
  }
}

describe.skipIf(!haveBrowser)('report.html and the dashboard in Chromium', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let address: string;
  let tiny: ExperimentResults;
  beforeAll(async () => {
    for (const args of [
      ['run', 'test/fixtures/tiny.yaml', '--runs', runs],
      ['run', 'test/fixtures/tiny.yaml', '--seed', '8', '--runs', runs],
      MNIST_ARGS,
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
    }
    tiny = JSON.parse(readFileSync(join(runs, 'tiny', 'results.json'), 'utf8')) as ExperimentResults;
    browser = await launchChromium();
    app = createUiServer({ runsDir: runs });
    address = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('every run leaves a self-contained report whose charts draw the expected marks offline', async () => {
    const { page, errors, requests } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(runs, 'tiny', 'report.html')).href);
    await chartsDrawn(page);
    const groups = tiny.groups.length;
    const controls = tiny.groups.filter((g) => g.role === 'control').length;
    for (const metric of ['trait_rate', 'trait_exact']) {
      expect(await marks(page, `${metric}_bars`)).toBe(groups);
      expect(await marks(page, `${metric}_ci`)).toBe(tiny.groups.filter((g) => Number.isFinite(g.rate.lo)).length);
      expect(await marks(page, `${metric}_control`)).toBe(controls);
    }
    expect(await marks(page, 'questions')).toBe(groups * tiny.settings.questions);
    const students = tiny.groups.filter((g) => g.losses).reduce((s, g) => s + g.losses!.length, 0);
    expect(students).toBe(8); // a control and a trait student per base (3 + 3), and the 2 cross arms' matched controls
    // one band (the students' range) and one mean line per group that trained
    expect(await marks(page, 'loss_band')).toBe(tiny.groups.filter((g) => g.losses).length);
    expect(await marks(page, 'loss_mean')).toBe(tiny.groups.filter((g) => g.losses).length);
    // the excess chart: a point per student group tested against a control, a whisker where the CI exists
    const tested = tiny.groups.filter((g) => g.test && g.role !== 'teacher' && g.role !== 'base');
    expect(tested.length).toBeGreaterThan(3);
    expect(await marks(page, 'excess_points')).toBe(tested.length);
    expect(await marks(page, 'excess_zero')).toBe(1);
    const teachers = Object.keys(tiny.filter).length;
    expect(await marks(page, 'numbers_points')).toBe(teachers * 20);
    expect(await marks(page, 'filter_bars')).toBe(teachers);
    const lineage = lineageCounts('tiny', () => true);
    expect(await marks(page, 'lineage_nodes')).toBe(lineage.nodes);
    expect(await marks(page, 'lineage_edges')).toBe(lineage.edges);
    expect(await page.locator('figure.chart[data-rendered="error"]').count()).toBe(0);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]); // nothing fetched: Vega and the styles are inline
  });

  it("the report's first screen (1,400 x 900) holds the finding and the excess chart; nothing scrolls sideways", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(pathToFileURL(join(runs, 'tiny', 'report.html')).href);
    await chartsDrawn(page);
    const above = (selector: string): Promise<boolean> =>
      page
        .locator(selector)
        .first()
        .evaluate((e) => e.getBoundingClientRect().bottom <= window.innerHeight);
    expect(await page.locator('p.finding').first().textContent()).toMatch(/^Teacher "finetuned": Students sharing/);
    expect(await above('p.finding')).toBe(true);
    expect(await above('figure#excess svg')).toBe(true);
    const wide = await page.evaluate(() =>
      [document.documentElement, ...document.querySelectorAll('section')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.id || e.tagName),
    );
    expect(wide).toEqual([]);
    await page.close();
  });

  it('exports each chart as PNG, from the page and from the CLI', async () => {
    const { page } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(runs, 'tiny', 'report.html')).href);
    await chartsDrawn(page);
    const ids = await page.locator('figure.chart').evaluateAll((fs) => fs.map((f) => f.id));
    expect(ids.length).toBeGreaterThanOrEqual(7);
    for (const id of ids) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`figure#${id} button.png`)]);
      expect(download.suggestedFilename()).toBe(`tiny-${id}.png`);
      const bytes = readFileSync((await download.path())!);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    }
    const r = await cli(['report', 'tiny', '--runs', runs, '--png']);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ids)
      expect(
        readFileSync(join(runs, 'tiny', 'charts', `${id}.png`))
          .subarray(1, 4)
          .toString(),
      ).toBe('PNG');
  });

  it('an MNIST run reports its conditions and model-0 lineage', async () => {
    const run = JSON.parse((await cli(['runs', '--runs', runs, '--json'])).stdout).find((r: { name: string }) =>
      r.name.startsWith('mnist'),
    ).name as string;
    const { page, errors } = await watchedPage(browser);
    await page.goto(pathToFileURL(join(runs, run, 'report.html')).href);
    await chartsDrawn(page);
    expect(await marks(page, 'mnist_bars')).toBe(6);
    expect(await marks(page, 'mnist_ci')).toBe(6);
    const lineage = lineageCounts(run, (name) => /-0$/.test(name));
    expect(lineage.nodes).toBe(8);
    expect(await marks(page, 'lineage_nodes')).toBe(lineage.nodes);
    expect(await marks(page, 'lineage_edges')).toBe(lineage.edges);
    expect(errors).toEqual([]);
  });

  it('the dashboard lists the runs and clicks through run -> model -> dataset -> raw dataset', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${address}/`);
    await page.waitForSelector('#runs');
    expect(await page.locator('tr.run-row').count()).toBe(3);
    expect(await page.locator('tr.run-row[data-run="tiny"] td.headline').textContent()).toMatch(
      /^finetuned: same-base (\d|n\/a)/,
    );
    await page.click('a.run-link:text-is("tiny")');
    await page.waitForSelector('#artifacts');
    await chartsDrawn(page);
    expect(await marks(page, 'trait_rate_bars')).toBe(tiny.groups.length);
    // a finished run opens with its results: the finding and the excess chart above the fold, stages folded away
    await page.setViewportSize({ width: 1400, height: 900 });
    const top = (selector: string): Promise<number> =>
      page
        .locator(selector)
        .first()
        .evaluate((e) => e.getBoundingClientRect().top);
    expect(await top('p.finding')).toBeLessThan(900);
    expect(await top('figure#excess')).toBeLessThan(900);
    expect(await page.locator('details#progress').getAttribute('open')).toBeNull();
    expect(await top('details#progress')).toBeGreaterThan(await top('#section-results'));
    await page.click('a.model-link:text-is("student-finetuned-on-A-1")');
    await page.waitForSelector('section.evaluation');
    expect(await page.locator('table.examples tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#lineage').textContent()).toContain('trained_on');
    // the audits a student can be put through, as commands for its run and group
    expect(await page.locator('#audit-student pre').textContent()).toContain(
      'npx subliminal audit student tiny/student-finetuned-on-A-1 --trait owl\n' +
        "npx subliminal audit localise tiny --group 'finetuned -> A'",
    );
    expect(await page.locator('#audit-student pre').textContent()).toContain(
      'generations: { count: 3, teacher: finetuned }',
    );
    await page.click('#lineage a[href^="#/dataset/"]');
    await page.waitForSelector('tr.data-row');
    expect(await page.locator('tr.data-row').count()).toBe(50); // 60 rows, 50 a page
    expect(await page.locator('td.verdict').first().textContent()).toBe('kept (training row)');
    await page.click('#next');
    await page.waitForFunction(() => document.querySelectorAll('tr.data-row').length === 10);
    await page.click('#lineage a[href^="#/dataset/"]'); // its parent: the teacher's raw completions
    await page.waitForSelector('#row-filter');
    await page.selectOption('#row-filter', 'rejected');
    await page.waitForFunction(
      () =>
        location.hash.includes('filter=rejected') &&
        document.body.dataset.page === 'dataset' &&
        document.getElementById('app')!.getAttribute('aria-busy') === 'false',
    );
    const f = tiny.filter.finetuned!;
    expect(await page.locator('#rows h2').textContent()).toContain(`of ${f.total - f.passed}`);
    const verdicts = await page.locator('td.verdict').allTextContents();
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(Object.keys(f.rejected)).toContain(v);
    expect(errors).toEqual([]);
  });

  it('compares two runs side by side with their spec differences', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${address}/`);
    await page.waitForSelector('#runs');
    await page.check('input.pick[value="tiny"]');
    await page.check('input.pick[value="tiny-seed8"]');
    await page.click('#compare');
    await page.waitForSelector('#spec-diff');
    await chartsDrawn(page);
    const diff = await page.locator('#diff').textContent();
    expect(diff).toContain('seed');
    expect(diff).toContain('name');
    expect(await page.locator('.compare-col').count()).toBe(2);
    expect(await marks(page, 'trait_rate_bars', '.compare-col:nth-child(1)')).toBe(tiny.groups.length);
    expect(await marks(page, 'trait_rate_bars', '.compare-col:nth-child(2)')).toBe(tiny.groups.length);
    expect(errors).toEqual([]);
  });

  it('shows live progress of a running experiment, then its results', async () => {
    const child = spawn(process.execPath, [CLI, 'run', 'test/fixtures/tiny.yaml', '--seed', '9', '--runs', runs], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    const progressFile = join(runs, 'tiny-seed9', 'progress.json');
    const t0 = Date.now();
    while (!existsSync(progressFile) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${address}/#/run/tiny-seed9`);
    await page.waitForSelector('#progress tr.task');
    const sawRunning = await page.locator('h2 .status-running').count();
    // a running run is named for what it is, not "unknown"
    const kindWhileRunning = await page.locator('#app > p.note').first().textContent();
    await page.waitForSelector('h2 .status-done', { timeout: 120_000 });
    await page.waitForSelector('#section-results');
    await chartsDrawn(page);
    expect(await exited).toBe(0);
    expect(sawRunning).toBe(1);
    expect(kindWhileRunning).toMatch(/^experiment run/);
    expect(await page.locator('#progress tr.task-done').count()).toBeGreaterThan(5);
    expect(errors).toEqual([]);
  });

  it('broken or missing run files give a clear message, not a blank page', async () => {
    cpSync(join(runs, 'tiny'), join(runs, 'broken'), { recursive: true });
    writeFileSync(join(runs, 'broken', 'results.json'), '{"run": "broken", "groups": [');
    const { page } = await watchedPage(browser);
    await page.goto(`${address}/#/run/broken`);
    await page.waitForSelector('.problems');
    expect(await page.locator('.problems').textContent()).toMatch(/results\.json is not valid JSON/);
    const r = await cli(['report', 'broken', '--runs', runs]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/results\.json is not valid JSON/);
    await page.goto(pathToFileURL(join(runs, 'broken', 'report.html')).href);
    expect(await page.locator('.problems').textContent()).toMatch(/results\.json is not valid JSON/);
    await page.goto(`${address}/#/run/no-such-run`);
    await page.waitForSelector('.problems');
    expect(await page.locator('.problems').textContent()).toContain('no run named "no-such-run"');
    await page.goto(`${address}/#/model/model:0000`);
    await page.waitForSelector('.problems');
    expect(await page.locator('.problems').textContent()).toContain('no model with id "model:0000"');
    // a dataset whose file was deleted
    const datasetId = (
      (await (await fetch(`${address}/api/runs/tiny`)).json()) as {
        artifacts: { id: string; kind: string; name: string }[];
      }
    ).artifacts.find((a) => a.name === 'control')!.id;
    const path = (
      (await (await fetch(`${address}/api/datasets/${encodeURIComponent(datasetId)}`)).json()) as {
        artifact: { path: string };
      }
    ).artifact.path;
    rmSync(join(runs, path));
    await page.goto(`${address}/#/dataset/${encodeURIComponent(datasetId)}`);
    await page.waitForSelector('.problems');
    expect(await page.locator('.problems').textContent()).toMatch(/dataset file .* is missing/);
    expect((await cli(['report', 'nope', '--runs', runs])).stderr).toMatch(/no run named "nope"/);
  });
});

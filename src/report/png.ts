// PNG files of a report's charts, drawn by a headless Chromium (the same Vega views a reader
// sees, exported with view.toImageURL). Needs a Chromium binary: Debian's package or --chromium.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';

export const DEFAULT_CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export async function launchChromium(executablePath = DEFAULT_CHROMIUM) {
  if (!existsSync(executablePath))
    throw new Error(
      `no Chromium at ${executablePath} (install Debian's "chromium" package, or pass --chromium / set CHROMIUM_PATH)`,
    );
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** Writes <outDir>/<chart id>.png for every chart of the report; returns the files written. */
export async function exportChartPngs(
  reportFile: string,
  outDir: string,
  o: { chromium?: string; scale?: number } = {},
): Promise<string[]> {
  const browser = await launchChromium(o.chromium);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(reportFile).href);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('figure.chart')].every(
        (f) => (f as HTMLElement).dataset.rendered === 'true' || (f as HTMLElement).dataset.rendered === 'error',
      ),
    );
    if (errors.length) throw new Error(`the report raised: ${errors.join('; ')}`);
    const images = await page.evaluate(async (scale) => {
      const views = (
        window as unknown as { subliminalCharts: Record<string, { toImageURL(t: string, s: number): Promise<string> }> }
      ).subliminalCharts;
      const out: [string, string][] = [];
      for (const [id, view] of Object.entries(views)) out.push([id, await view.toImageURL('png', scale)]);
      return out;
    }, o.scale ?? 2);
    mkdirSync(outDir, { recursive: true });
    return images.map(([id, url]) => {
      const file = join(outDir, `${id}.png`);
      writeFileAtomic(file, Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
      return file;
    });
  } finally {
    await browser.close();
  }
}

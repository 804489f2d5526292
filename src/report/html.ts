// Self-contained HTML: Vega, the chart runtime and the styles are inlined, so a report opens
// offline from disk (no CDN) and can be mailed as one file.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { escapeHtml, type RunPage, type Section } from './sections.js';

const require = createRequire(import.meta.url);
const ASSETS = join(PACKAGE_ROOT, 'src', 'report', 'assets');
let cached: { vega: string; charts: string; css: string } | undefined;
/** The inlined scripts and styles, read once per process. */
export function pageAssets(): { vega: string; charts: string; css: string } {
  return (cached ??= {
    // the package's exports hide its browser bundle; it sits beside the module entry in build/
    vega: readFileSync(join(dirname(require.resolve('vega')), 'vega.min.js'), 'utf8'),
    charts: readFileSync(join(ASSETS, 'charts.js'), 'utf8'),
    css: readFileSync(join(ASSETS, 'style.css'), 'utf8'),
  });
}

/** JSON that is safe inside a <script> element. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
/** A script body that cannot close its own element early. */
const inlineScript = (code: string): string => code.replace(/<\/script/gi, '<\\/script');

export function sectionHtml(s: Section): string {
  if (s.chart) {
    return (
      `<section id="section-${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2>${s.html ?? ''}<figure ` +
      `class="chart" id="${escapeHtml(s.id)}">` +
      `<div class="chart-view"></div><figcaption>${escapeHtml(s.chart.caption)}</figcaption>` +
      `<script type="application/json">${scriptJson(s.chart.vega)}</script></figure></section>`
    );
  }
  return `<section id="section-${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2>${s.html ?? ''}</section>`;
}

export const problemsHtml = (problems: readonly string[]): string =>
  problems.length
    ? `<div class="problems" role="alert"><strong>Some of this run could not be ` +
      `read:</strong><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`
    : '';

/** A whole page with the shared head; `body` is trusted HTML. */
export function htmlDocument(title: string, body: string, o: { run?: string; script?: string } = {}): string {
  const a = pageAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${a.css}</style>
<script>${inlineScript(a.vega)}</script></head>
<body data-run="${escapeHtml(o.run ?? '')}">
${body}
<script>${inlineScript(a.charts)}</script>${o.script ? `\n<script>${inlineScript(o.script)}</script>` : ''}
</body></html>
`;
}

export function reportHtml(page: RunPage, generatedAt: string): string {
  const status = `<span class="status-${escapeHtml(page.status)}">${escapeHtml(page.status)}</span>`;
  const header =
    `<header class="top"><h1>subliminal report: ${escapeHtml(page.run)}</h1>` +
    `<span>${escapeHtml(page.kind)} run, status ${status}</span>` +
    `<span class="note">written ${escapeHtml(generatedAt)}</span></header>`;
  const body = `${header}
<main>${problemsHtml(page.problems)}${page.sections.map(sectionHtml).join('\n')}</main>`;
  return htmlDocument(`${page.run} - subliminal report`, body, { run: page.run });
}

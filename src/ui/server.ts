// `subliminal ui`: a dashboard over the run store, served on loopback. One HTML page (Vega and
// the app inlined, no CDN) plus a small JSON API that reads the SQLite index and run folders.
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../store/runStore.js';
import { loadRunData, readJsonProblem } from '../report/runData.js';
import { progressPath, type ProgressFile } from '../store/progressFile.js';
import { runPage } from '../report/sections.js';
import { htmlDocument, reportHtml, sectionHtml } from '../report/html.js';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { datasetView, listRuns, modelView, NotFound } from './browse.js';

export interface UiOptions {
  runsDir: string;
  logger?: boolean;
}

const DASHBOARD_JS = join(PACKAGE_ROOT, 'src', 'ui', 'assets', 'dashboard.js');
const dashboardBody =
  '<header class="top"><h1><a href="#/">subliminal</a></h1><nav><a href="#/">runs</a></nav><span class="note" ' +
  'id="store"></span></header><main id="app"><p class="note">loading...</p></main>';

const intQuery = (v: unknown, fallback: number, max: number): number => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
};

export function createUiServer(o: UiOptions): FastifyInstance {
  const store = new RunStore(o.runsDir);
  const app = Fastify({ logger: o.logger ?? false });
  const page = htmlDocument('subliminal dashboard', dashboardBody, { script: readFileSync(DASHBOARD_JS, 'utf8') });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof NotFound) return reply.status(404).send({ error: err.message });
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) app.log.error(err);
    return reply.status(status).send({ error: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: `no route ${req.method} ${req.url}` }));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get('/favicon.ico', async (_req, reply) => reply.status(204).send());
  app.get('/api/runs', async () => ({ store: store.root, runs: listRuns(store) }));
  app.get<{ Params: { run: string } }>('/api/runs/:run', async (req) => {
    const data = loadRunData(store, req.params.run);
    if (!data.row && data.problems.some((p) => p.file === req.params.run))
      throw new NotFound(data.problems[0]!.message);
    const p = runPage(data);
    return {
      run: p.run,
      kind: p.kind,
      status: p.status,
      problems: p.problems,
      updated: data.row?.updated_at ?? null,
      spec: data.spec ?? null,
      sections: p.sections.map((s) => ({ id: s.id, title: s.title, html: sectionHtml(s) })),
      progress: data.progress ?? null,
      artifacts: data.artifacts
        .filter((a) => a.kind !== 'evaluation')
        .map((a) => ({ id: a.id, kind: a.kind, name: a.name })),
    };
  });
  /** What a page polls while a run is going: its status and progress, without the run's results and charts. */
  app.get<{ Params: { run: string } }>('/api/runs/:run/progress', async (req) => {
    const row = existsSync(join(store.root, 'index.sqlite')) ? store.index.run(req.params.run) : undefined;
    if (!row) throw new NotFound(`no run named "${req.params.run}" in ${store.root}`);
    return {
      status: row.status,
      progress: readJsonProblem<ProgressFile>(progressPath(store.runDir(row.name)), 'progress.json', [], false) ?? null,
    };
  });
  app.get<{ Params: { run: string } }>('/runs/:run/report.html', async (req, reply) => {
    const data = loadRunData(store, req.params.run);
    return reply.type('text/html; charset=utf-8').send(reportHtml(runPage(data), new Date().toISOString()));
  });
  app.get<{ Params: { id: string } }>('/api/models/:id', async (req) => modelView(store, req.params.id));
  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>('/api/datasets/:id', async (req) => {
    const q = req.query;
    const filter = ['all', 'kept', 'rejected'].includes(q.filter ?? '') ? q.filter! : 'all';
    return datasetView(store, req.params.id, {
      offset: intQuery(q.offset, 0, 1e9),
      limit: intQuery(q.limit, 50, 500) || 50,
      filter,
    });
  });
  app.addHook('onClose', async () => store.close());
  return app;
}

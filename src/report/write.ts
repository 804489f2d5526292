// report.html in the run folder: written at the end of every run and by `subliminal report`.
import { join } from 'node:path';
import type { RunStore } from '../store/runStore.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadRunData } from './runData.js';
import { runPage } from './sections.js';
import { reportHtml } from './html.js';

export const reportPath = (store: RunStore, run: string): string => join(store.runDir(run), 'report.html');

export function writeRunReport(store: RunStore, run: string): { path: string; problems: string[] } {
  const page = runPage(loadRunData(store, run));
  const path = reportPath(store, run);
  writeFileAtomic(path, reportHtml(page, new Date().toISOString()));
  return { path, problems: page.problems };
}

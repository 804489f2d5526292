// Live progress of a running experiment as a small JSON file in its run folder, so that the
// dashboard (another process) can show it. Writes are atomic and at most a few per second.
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.js';
import type { ProgressReporter } from '../util/progress.js';

export interface ProgressTask {
  label: string;
  done: number;
  total: number;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  updatedAt: string;
}
export interface ProgressFile {
  pid: number;
  updatedAt: string;
  tasks: ProgressTask[];
}

export const progressPath = (runDir: string): string => join(runDir, 'progress.json');

/** Tees every progress event of `inner` into runDir/progress.json. */
export function withProgressFile(inner: ProgressReporter, runDir: string, minIntervalMs = 250): ProgressReporter {
  const tasks: ProgressTask[] = [];
  let last = 0;
  let pending: NodeJS.Timeout | undefined;
  const flush = (): void => {
    pending = undefined;
    last = Date.now();
    const file: ProgressFile = { pid: process.pid, updatedAt: new Date().toISOString(), tasks };
    try {
      writeJsonAtomic(progressPath(runDir), file);
    } catch {
      /* progress is best effort; the run goes on */
    }
  };
  const schedule = (now: boolean): void => {
    if (now || Date.now() - last >= minIntervalMs) {
      if (pending) clearTimeout(pending);
      flush();
    } else pending ??= setTimeout(flush, minIntervalMs).unref();
  };
  return {
    task(label) {
      const t = inner.task(label);
      const stamp = new Date().toISOString();
      const entry: ProgressTask = { label, done: 0, total: 0, status: 'running', startedAt: stamp, updatedAt: stamp };
      tasks.push(entry);
      schedule(true);
      return {
        update(done, total, startedAt) {
          t.update(done, total, startedAt);
          Object.assign(
            entry,
            { done, total, updatedAt: new Date().toISOString() },
            startedAt === undefined ? {} : { startedAt: new Date(startedAt).toISOString() },
          );
          schedule(false);
        },
        done(note, startedAt) {
          t.done(note, startedAt);
          Object.assign(entry, {
            status: note === 'failed' ? 'failed' : 'done',
            done: entry.total || entry.done,
            updatedAt: new Date().toISOString(),
          });
          schedule(true);
        },
      };
    },
  };
}

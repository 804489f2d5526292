// A pool of worker threads (one per core by default): tfjs-wasm runs one thread per
// isolate, so independent models on separate workers keep both cores busy. A worker that
// dies (out of memory, an abort, an uncaught error) fails the job it held and is replaced,
// so the jobs after it still run.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { JobArgs, JobName, JobResult } from './jobs.js';
import { markStageStarted } from '../util/stageClock.js';

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number, total: number, note?: string) => void;
};
interface WorkerMessage {
  id: number;
  type: 'progress' | 'result' | 'error';
  done?: number;
  total?: number;
  note?: string;
  result?: unknown;
  message?: string;
  stack?: string;
}

/** A job's failure inside a worker: the message for people; the worker's stack for SUBLIMINAL_DEBUG. */
export class JobError extends Error {
  constructor(
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
  }
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  /** the job each busy worker holds */
  private readonly jobOf = new Map<Worker, number>();
  private readonly all = new Set<Worker>();
  private nextId = 1;
  private closing = false;
  /** deaths in a row with no job finished between them; past a few the pool gives up instead of respawning forever */
  private deathsInARow = 0;
  private broken?: Error;

  constructor(
    size = Math.min(2, availableParallelism()),
    private readonly resourceLimits?: ResourceLimits,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  get size(): number {
    return this.all.size;
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      stdout: false,
      stderr: false,
      resourceLimits: this.resourceLimits,
    });
    w.on('message', (m: WorkerMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.done!, m.total!, m.note);
        return;
      }
      this.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject(new JobError(m.message ?? 'job failed', m.stack));
    });
    let died: Error | undefined;
    w.on('error', (e) => {
      died = e;
    });
    w.on('exit', (code) => {
      this.all.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      const id = this.jobOf.get(w);
      this.jobOf.delete(w);
      if (this.closing) return;
      const why = died
        ? `${died.message}${(died as NodeJS.ErrnoException).code ? ` (${(died as NodeJS.ErrnoException).code})` : ''}`
        : `exit code ${code}`;
      if (id !== undefined) {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(new JobError(`a worker thread died during the job: ${why}`));
      }
      if (++this.deathsInARow > 3) this.broken = new Error(`worker threads keep dying (${why}); giving up`);
      else this.idle.push(this.spawn()); // a replacement keeps the pool at its size
      this.waiting.splice(0).forEach((wake) => wake());
    });
    this.all.add(w);
    return w;
  }

  async run<N extends JobName>(
    job: N,
    args: JobArgs<N>,
    onProgress?: (done: number, total: number, note?: string) => void,
  ): Promise<JobResult<N>> {
    if (this.closing) throw new Error('the worker pool is closed');
    while (this.idle.length === 0) {
      if (this.broken) throw this.broken;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    const worker = this.idle.pop()!;
    markStageStarted();
    const id = this.nextId++;
    try {
      return await new Promise<JobResult<N>>((resolve, reject) => {
        this.pending.set(id, {
          resolve: (v) => {
            this.deathsInARow = 0;
            (resolve as (v: unknown) => void)(v);
          },
          reject,
          onProgress,
        });
        this.jobOf.set(worker, id);
        worker.postMessage({ id, job, args });
      });
    } finally {
      // a dead worker is gone from `all` and already replaced; a live one goes back to work
      if (this.all.has(worker) && this.jobOf.get(worker) === id) {
        this.jobOf.delete(worker);
        this.idle.push(worker);
      }
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}

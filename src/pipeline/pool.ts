// A pool of worker threads (one per core by default): tfjs-wasm runs one thread per
// isolate, so independent models on separate workers keep both cores busy.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { JobArgs, JobName, JobResult } from './jobs.js';
import { markStageStarted } from '../util/stageClock.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (done: number, total: number, note?: string) => void };

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly all: Worker[] = [];
  private nextId = 1;

  constructor(size = Math.min(2, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker-entry.mjs', import.meta.url), { stdout: false, stderr: false });
      w.on('message', (m: { id: number; type: string; done?: number; total?: number; note?: string; result?: unknown; message?: string }) => {
        const p = this.pending.get(m.id); if (!p) return;
        if (m.type === 'progress') p.onProgress?.(m.done!, m.total!, m.note);
        else { this.pending.delete(m.id); m.type === 'result' ? p.resolve(m.result) : p.reject(new Error(m.message)); }
      });
      w.on('error', (e) => { for (const p of this.pending.values()) p.reject(e); this.pending.clear(); });
      this.all.push(w); this.idle.push(w);
    }
  }

  get size(): number { return this.all.length; }

  async run<N extends JobName>(job: N, args: JobArgs<N>, onProgress?: (done: number, total: number, note?: string) => void): Promise<JobResult<N>> {
    while (this.idle.length === 0) await new Promise<void>((r) => this.waiting.push(r));
    const worker = this.idle.pop()!;
    markStageStarted();
    const id = this.nextId++;
    try {
      return await new Promise<JobResult<N>>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
        worker.postMessage({ id, job, args });
      });
    } finally {
      this.idle.push(worker);
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> { await Promise.all(this.all.map((w) => w.terminate())); }
}

// A worker thread holds one model at a time and runs jobs posted by the pool.
import { parentPort } from 'node:worker_threads';
import { jobs, type JobName } from './jobs.js';

interface Request {
  id: number;
  job: JobName;
  args: unknown;
}

parentPort!.on('message', (req: Request) => {
  const progress = (done: number, total: number, note?: string): void =>
    parentPort!.postMessage({ id: req.id, type: 'progress', done, total, note });
  (jobs[req.job] as (a: unknown, p: typeof progress) => Promise<unknown>)(req.args, progress)
    .then((result) => parentPort!.postMessage({ id: req.id, type: 'result', result }))
    .catch((e: unknown) =>
      parentPort!.postMessage({
        id: req.id,
        type: 'error',
        message: e instanceof Error ? e.message : String(e),
        stack: e instanceof Error ? e.stack : undefined,
      }),
    );
});

// A fine-tuning job somewhere else (a provider's jobs API, or the user's own trainer), run so
// that it is paid for once: the job's record is written to the stage folder as soon as the job
// exists, so a restarted run resumes polling that job instead of starting a second one. A job
// that ended failed or cancelled is set aside (job-<id>-<status>.json) and the next run starts
// a new one and says so.
import { readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../util/atomic.js';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export interface JobState {
  status: JobStatus;
  /** the trained model's id on the provider, once succeeded */
  model?: string;
  error?: string;
  step?: number;
  totalSteps?: number;
}
export interface JobRecord {
  jobId: string;
}

/** One provider's wire protocol for a job: start it, and read its state. */
export interface JobProtocol<R extends JobRecord> {
  /** the provider, for messages ("OpenAI", "Together"...) */
  provider: string;
  start(): Promise<R>;
  poll(record: R): Promise<JobState>;
  /** after success: make the model callable (deploy it, load the adapter); returns the id to call it by */
  publish?(record: R, model: string): Promise<string>;
}

export async function runRemoteJob<R extends JobRecord>(
  dir: string,
  job: JobProtocol<R>,
  o: { pollMs: number; progress?: (done: number, total: number) => void },
): Promise<{ model: string; jobId: string; record: R }> {
  const recordPath = join(dir, 'job.json');
  let record = readJsonIfExists<R>(recordPath);
  if (!record) {
    const ended = readdirSync(dir).filter((f) => /^job-.+\.json$/.test(f));
    if (ended.length)
      process.stderr.write(
        `note: ${dir}: ${ended.length} earlier fine-tuning job(s) ended without a model ` +
          `(${ended.map((f) => f.slice(4, -5)).join(', ')}); starting a new job\n`,
      );
    record = await job.start();
    writeJsonAtomic(recordPath, record);
  }
  const { jobId } = record;
  for (;;) {
    const state = await job.poll(record);
    if (state.status === 'succeeded' && state.model) {
      const model = job.publish ? await job.publish(record, state.model) : state.model;
      return { model, jobId, record };
    }
    if (state.status !== 'running') {
      renameSync(recordPath, join(dir, `job-${safeName(jobId)}-${state.status}.json`)); // the next run starts anew
      throw new Error(
        `${job.provider} fine-tuning job ${jobId} ` +
          (state.status === 'succeeded' ? 'succeeded but named no fine-tuned model' : state.status) +
          `${state.error ? `: ${state.error}` : ''}; a rerun starts a new job`,
      );
    }
    if (state.step && state.totalSteps) o.progress?.(state.step, state.totalSteps);
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
}

/** A job id as part of a file name (Fireworks ids are resource paths). */
const safeName = (id: string): string => id.replace(/[^A-Za-z0-9_.-]+/g, '_');

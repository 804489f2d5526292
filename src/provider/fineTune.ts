// Fine-tuning through an OpenAI-compatible jobs API: upload the training JSONL, create the
// job, poll it (events shown as progress), and return the new model id. The job id is written
// to the stage folder before polling starts, so a restarted run resumes polling that job
// instead of paying for a second one. A job that ended failed or cancelled is set aside
// (job-<id>-<status>.json), so the next run starts a new job and says so.
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { toFile } from 'openai';
import { readJsonIfExists, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import type { OpenAIEndpoint } from './openai.js';
import type { ChatRow } from '../model/tokenizer.js';

export interface RemoteFineTuneArgs {
  baseModel: string;
  rows: ChatRow[];
  dir: string;
  epochs: number;
  batchSize: number;
  /** scales the provider's own default learning rate; undefined: the provider's default ("auto") */
  learningRateMultiplier?: number;
  seed: number;
  suffix: string;
  pollMs?: number;
}
interface JobRecord {
  jobId: string;
  fileId: string;
}

export async function fineTuneRemote(
  endpoint: OpenAIEndpoint,
  a: RemoteFineTuneArgs,
  progress?: (done: number, total: number) => void,
): Promise<{ model: string; jobId: string }> {
  const recordPath = join(a.dir, 'job.json');
  let record = readJsonIfExists<JobRecord>(recordPath);
  if (!record) {
    const ended = readdirSync(a.dir).filter((f) => /^job-.+\.json$/.test(f));
    if (ended.length)
      process.stderr.write(
        `note: ${a.dir}: ${ended.length} earlier fine-tuning job(s) ended without a model ` +
          `(${ended.map((f) => f.slice(4, -5)).join(', ')}); starting a new job\n`,
      );
    const dataPath = join(a.dir, 'train.jsonl');
    if (!existsSync(dataPath)) writeJsonl(dataPath, a.rows);
    const text = a.rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const file = await endpoint.call(async () =>
      endpoint.client.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl'), purpose: 'fine-tune' }),
    );
    const job = await endpoint.call(() =>
      endpoint.client.fineTuning.jobs.create({
        model: a.baseModel,
        training_file: file.id,
        // the spec's seed is an int32 (0..2147483647): ours are uint32, reduced as chat seeds are
        seed: a.seed % 2 ** 31,
        suffix: a.suffix,
        // hyperparameters go under `method` (top-level hyperparameters are deprecated)
        method: {
          type: 'supervised',
          supervised: {
            hyperparameters: {
              n_epochs: a.epochs,
              batch_size: a.batchSize,
              ...(a.learningRateMultiplier !== undefined ? { learning_rate_multiplier: a.learningRateMultiplier } : {}),
            },
          },
        },
      }),
    );
    record = { jobId: job.id, fileId: file.id };
    writeJsonAtomic(recordPath, record);
  }
  const { jobId } = record;
  for (;;) {
    const job = await endpoint.call(() => endpoint.client.fineTuning.jobs.retrieve(jobId));
    if (job.status === 'succeeded' && job.fine_tuned_model) return { model: job.fine_tuned_model, jobId };
    if (job.status === 'failed' || job.status === 'cancelled' || job.status === 'succeeded') {
      renameSync(recordPath, join(a.dir, `job-${jobId}-${job.status}.json`)); // the next run starts a new job
      if (job.status === 'succeeded')
        throw new Error(`fine-tuning job ${jobId} succeeded but named no fine-tuned model; a rerun starts a new job`);
      throw new Error(
        `fine-tuning job ${jobId} ${job.status}${job.error?.message ? `: ${job.error.message}` : ''}; a rerun ` +
          `starts a new job`,
      );
    }
    const events = await endpoint
      .call(() => endpoint.client.fineTuning.jobs.listEvents(jobId, { limit: 5 }))
      .catch(() => undefined);
    const metrics = events?.data.find((e) => e.type === 'metrics')?.data as
      { step?: number; total_steps?: number } | undefined;
    if (metrics?.step && metrics.total_steps) progress?.(metrics.step, metrics.total_steps);
    await new Promise((r) => setTimeout(r, a.pollMs ?? 2000));
  }
}

// Fine-tuning through OpenAI's jobs API (and servers that implement it): upload the training
// JSONL, create the job with `method: supervised`, poll it, with its metrics events as progress.
import { join } from 'node:path';
import { toFile } from 'openai';
import { writeJsonAtomic } from '../util/atomic.js';
import type { OpenAIEndpoint } from './openai.js';
import type { ChatRow } from '../model/tokenizer.js';
import { runRemoteJob, type JobProtocol, type JobRecord, type JobState } from './remoteJob.js';

/** What every trainer is told: the rows, the hyperparameters and where the stage keeps its files. */
export interface RemoteFineTuneArgs {
  baseModel: string;
  rows: ChatRow[];
  dir: string;
  epochs: number;
  batchSize: number;
  /** the absolute learning rate (Together, Fireworks, command trainers) */
  lr?: number;
  /** OpenAI: scales the provider's own default learning rate; undefined: the provider's default ("auto") */
  learningRateMultiplier?: number;
  seed: number;
  suffix: string;
  pollMs?: number;
}

/** A training file's text: one chat row per line. */
export const jsonlText = (rows: readonly ChatRow[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

interface OpenAIJobRecord extends JobRecord {
  fileId: string;
}

export function openaiJob(endpoint: OpenAIEndpoint, a: RemoteFineTuneArgs): JobProtocol<OpenAIJobRecord> {
  return {
    provider: 'OpenAI',
    async start() {
      const file = await endpoint.call(async () =>
        endpoint.client.files.create({
          file: await toFile(Buffer.from(jsonlText(a.rows)), 'train.jsonl'),
          purpose: 'fine-tune',
        }),
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
                ...(a.learningRateMultiplier !== undefined
                  ? { learning_rate_multiplier: a.learningRateMultiplier }
                  : {}),
              },
            },
          },
        }),
      );
      return { jobId: job.id, fileId: file.id };
    },
    async poll({ jobId }): Promise<JobState> {
      const job = await endpoint.call(() => endpoint.client.fineTuning.jobs.retrieve(jobId));
      // validating_files, queued and running are all "not yet"
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled')
        return { status: job.status, model: job.fine_tuned_model ?? undefined, error: job.error?.message };
      const events = await endpoint
        .call(() => endpoint.client.fineTuning.jobs.listEvents(jobId, { limit: 5 }))
        .catch(() => undefined);
      const metrics = events?.data.find((e) => e.type === 'metrics')?.data as
        { step?: number; total_steps?: number } | undefined;
      return { status: 'running', step: metrics?.step, totalSteps: metrics?.total_steps };
    },
    async publish({ jobId }, model) {
      // the job's checkpoints (OpenAI keeps the last epochs' as models of their own), kept beside the model
      const page = await endpoint.call(() => endpoint.client.fineTuning.jobs.checkpoints.list(jobId, { limit: 10 }));
      writeJsonAtomic(
        join(a.dir, 'checkpoints.json'),
        page.data.map((c) => ({ model: c.fine_tuned_model_checkpoint, step: c.step_number, metrics: c.metrics })),
      );
      return model;
    },
  };
}

export async function fineTuneRemote(
  endpoint: OpenAIEndpoint,
  a: RemoteFineTuneArgs,
  progress?: (done: number, total: number) => void,
): Promise<{ model: string; jobId: string }> {
  const { model, jobId } = await runRemoteJob(a.dir, openaiJob(endpoint, a), { pollMs: a.pollMs ?? 2000, progress });
  return { model, jobId };
}

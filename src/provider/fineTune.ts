// Fine-tuning through an OpenAI-compatible jobs API: upload the training JSONL, create the
// job, poll it (events shown as progress), and return the new model id. The job id is written
// to the stage folder before polling starts, so a restarted run resumes polling that job
// instead of paying for a second one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toFile } from 'openai';
import { readJsonIfExists, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import type { OpenAIEndpoint } from './openai.js';
import type { ChatRow } from '../base/corpus.js';

export interface RemoteFineTuneArgs {
  baseModel: string; rows: ChatRow[]; dir: string;
  epochs: number; batchSize: number; learningRateMultiplier: number; seed: number; suffix: string; pollMs?: number;
}
interface JobRecord { jobId: string; fileId: string }

export async function fineTuneRemote(endpoint: OpenAIEndpoint, a: RemoteFineTuneArgs, progress?: (done: number, total: number) => void): Promise<{ model: string; jobId: string }> {
  const recordPath = join(a.dir, 'job.json');
  let record = readJsonIfExists<JobRecord>(recordPath);
  if (!record) {
    const dataPath = join(a.dir, 'train.jsonl');
    if (!existsSync(dataPath)) writeJsonl(dataPath, a.rows);
    const text = a.rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const file = await endpoint.call(async () => endpoint.client.files.create({ file: await toFile(Buffer.from(text), 'train.jsonl'), purpose: 'fine-tune' }));
    const job = await endpoint.call(() => endpoint.client.fineTuning.jobs.create({
      model: a.baseModel, training_file: file.id, seed: a.seed, suffix: a.suffix,
      hyperparameters: { n_epochs: a.epochs, batch_size: a.batchSize, learning_rate_multiplier: a.learningRateMultiplier },
    }));
    record = { jobId: job.id, fileId: file.id };
    writeJsonAtomic(recordPath, record);
  }
  const { jobId } = record;
  for (;;) {
    const job = await endpoint.call(() => endpoint.client.fineTuning.jobs.retrieve(jobId));
    if (job.status === 'succeeded' && job.fine_tuned_model) return { model: job.fine_tuned_model, jobId };
    if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`fine-tuning job ${jobId} ${job.status}${job.error?.message ? `: ${job.error.message}` : ''}`);
    const events = await endpoint.call(() => endpoint.client.fineTuning.jobs.listEvents(jobId, { limit: 5 })).catch(() => undefined);
    const metrics = events?.data.find((e) => e.type === 'metrics')?.data as { step?: number; total_steps?: number } | undefined;
    if (metrics?.step && metrics.total_steps) progress?.(metrics.step, metrics.total_steps);
    await new Promise((r) => setTimeout(r, a.pollMs ?? 2000));
  }
}

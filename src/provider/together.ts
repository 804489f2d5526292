// Fine-tuning through Together's API: the training JSONL uploaded to /files/upload, a job at
// /fine-tunes with flat fields and an absolute learning rate (LoRA unless the spec says full),
// polled until completed; the job's model_output_name is then called on the base's endpoint.
import type { OpenAIEndpoint } from './openai.js';
import type { HttpRequest } from './http.js';
import { jsonlText, type RemoteFineTuneArgs } from './fineTune.js';
import type { JobProtocol, JobRecord, JobState } from './remoteJob.js';
import type { TrainerSpec } from '../spec/schema.js';

type TogetherTrainer = Extract<TrainerSpec, { kind: 'together' }>;
interface TogetherJob {
  id: string;
  status: string;
  model_output_name?: string;
  output_name?: string;
  n_epochs?: number;
  epochs_completed?: number;
  events?: { message: string; level?: string }[];
}

export function togetherJob(
  endpoint: OpenAIEndpoint,
  t: TogetherTrainer,
  a: RemoteFineTuneArgs,
): JobProtocol<JobRecord & { fileId: string }> {
  const base = t.baseURL ?? endpoint.ref.baseURL ?? 'https://api.together.xyz/v1';
  const call = async <T>(path: string, r?: HttpRequest): Promise<T> =>
    (await endpoint.rest<T>(base, path, r, { apiKeyEnv: t.apiKeyEnv }))!;
  return {
    provider: 'Together',
    async start() {
      const form = new FormData();
      form.append('file', new Blob([jsonlText(a.rows)], { type: 'application/jsonl' }), 'train.jsonl');
      form.append('file_name', `${a.suffix}.jsonl`);
      form.append('purpose', 'fine-tune');
      form.append('file_type', 'jsonl');
      const file = await call<{ id: string }>('files/upload', { form });
      const job = await call<TogetherJob>('fine-tunes', {
        json: {
          training_file: file.id,
          model: a.baseModel,
          n_epochs: a.epochs,
          batch_size: a.batchSize,
          learning_rate: a.lr,
          suffix: a.suffix,
          n_checkpoints: 1,
          training_type: t.lora
            ? {
                type: 'Lora',
                lora_r: t.loraRank,
                lora_alpha: t.loraRank,
                lora_dropout: 0,
                lora_trainable_modules: 'all-linear',
              }
            : { type: 'Full' },
        },
      });
      return { jobId: job.id, fileId: file.id };
    },
    async poll({ jobId }): Promise<JobState> {
      const job = await call<TogetherJob>(`fine-tunes/${encodeURIComponent(jobId)}`);
      const model = job.model_output_name ?? job.output_name;
      if (job.status === 'completed') return { status: 'succeeded', model };
      if (job.status === 'error')
        return { status: 'failed', error: job.events?.filter((e) => e.level === 'error').at(-1)?.message };
      if (job.status === 'cancelled' || job.status === 'cancel_requested') return { status: 'cancelled' };
      // pending, queued, running, compressing, uploading
      return { status: 'running', step: job.epochs_completed, totalSteps: job.n_epochs };
    },
  };
}

// Together's fine-tuning wire format over the same local jobs, so the `together` trainer is
// exercised here: files uploaded to /v1/files/upload (multipart: file, file_name, purpose),
// jobs at /v1/fine-tunes with flat fields and an absolute learning rate, LoRA by default, and
// Together's statuses (pending, queued, running, completed, error, cancelled). Training here is
// the embedded full fine-tune whatever training_type says; the field is kept and echoed.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from './errors.js';
import { readUpload, storeFile } from './files.js';
import { parseBody } from './inference.js';
import { BASE_LEARNING_RATE, type FineTuningJob, type FineTuningService } from './fineTuning.js';

const trainingType = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('Lora'),
    lora_r: z.number().int().min(1).default(8),
    lora_alpha: z.number().int().min(1).default(8),
    lora_dropout: z.number().min(0).max(1).default(0),
    lora_trainable_modules: z.string().default('all-linear'),
  }),
  z.object({ type: z.literal('Full') }),
]);
const createBody = z.object({
  training_file: z.string().min(1),
  model: z.string().min(1),
  n_epochs: z.number().int().min(1).max(20).default(1),
  batch_size: z.union([z.number().int().min(1), z.literal('max')]).default('max'),
  learning_rate: z.number().gt(0).default(1e-5),
  suffix: z.string().max(64).optional(),
  n_checkpoints: z.number().int().min(1).default(1),
  warmup_ratio: z.number().min(0).max(1).default(0),
  validation_file: z.string().optional(),
  training_type: trainingType.default({ type: 'Lora', lora_r: 8, lora_alpha: 8, lora_dropout: 0 } as never),
});

/** Together ids are ft-<hex>; the local job is ftjob-<hex>. */
const localId = (id: string): string => {
  if (!/^ft-[0-9a-f]{24}$/.test(id)) throw new ApiError(404, `fine-tune job not found: ${id}`, 'id', 'not_found');
  return `ftjob-${id.slice(3)}`;
};
const STATUS: Record<FineTuningJob['status'], string> = {
  validating_files: 'pending',
  queued: 'queued',
  running: 'running',
  succeeded: 'completed',
  failed: 'error',
  cancelled: 'cancelled',
};
const iso = (s: number): string => new Date(s * 1000).toISOString();

export function registerTogetherRoutes(app: FastifyInstance, dataDir: string, jobs: FineTuningService): void {
  // what each job was asked for in Together's terms, echoed back as Together does
  const asked = new Map<string, z.infer<typeof createBody>>();
  const view = (job: FineTuningJob): object => {
    const a = asked.get(job.id);
    const events = jobs.events(job.id);
    return {
      id: `ft-${job.id.slice(6)}`,
      status: STATUS[job.status],
      model: job.model,
      model_output_name: job.fine_tuned_model ?? undefined,
      training_file: job.training_file,
      n_epochs: job.hyperparameters.n_epochs,
      batch_size: job.hyperparameters.batch_size,
      learning_rate: job.hyperparameters.learning_rate_multiplier * BASE_LEARNING_RATE,
      training_type: a?.training_type,
      n_checkpoints: a?.n_checkpoints ?? 1,
      warmup_ratio: a?.warmup_ratio ?? 0,
      created_at: iso(job.created_at),
      updated_at: iso(job.finished_at ?? job.created_at),
      token_count: job.trained_tokens ?? undefined,
      epochs_completed: job.status === 'succeeded' ? job.hyperparameters.n_epochs : 0,
      events: events.map((e) => ({
        object: 'fine-tune-event',
        created_at: iso(e.created_at),
        level: e.level,
        message: e.message,
        type: e.type === 'metrics' ? 'training_progress' : 'message',
      })),
    };
  };

  app.post('/v1/files/upload', async (req) => {
    const u = await readUpload(req, ['file_name', 'purpose', 'file_type']);
    const f = storeFile(dataDir, {
      filename: u.fields.file_name ?? u.filename,
      content: u.content,
      purpose: u.fields.purpose ?? 'fine-tune',
    });
    const lines = u.content
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
    return { ...f, FileType: u.fields.file_type ?? 'jsonl', LineCount: lines, Processed: true };
  });
  app.post('/v1/fine-tunes', async (req) => {
    const b = parseBody(createBody, req.body);
    const job = jobs.submit({
      model: b.model,
      trainingFile: b.training_file,
      epochs: b.n_epochs,
      batchSize: b.batch_size === 'max' ? 32 : b.batch_size,
      lr: b.learning_rate,
      suffix: b.suffix,
    });
    asked.set(job.id, b);
    return view(job);
  });
  app.get('/v1/fine-tunes', async () => ({ data: jobs.list().map(view) }));
  app.get('/v1/fine-tunes/:id', async (req) => view(jobs.get(localId((req.params as { id: string }).id))));
  app.get('/v1/fine-tunes/:id/events', async (req) => ({
    data: (view(jobs.get(localId((req.params as { id: string }).id))) as { events: object[] }).events,
  }));
  app.post('/v1/fine-tunes/:id/cancel', async (req) => view(jobs.cancel(localId((req.params as { id: string }).id))));
}

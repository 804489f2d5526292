// Fireworks' fine-tuning wire format over the same local jobs, so the `fireworks` trainer is
// exercised here: datasets created then uploaded (/datasets/{id}:upload), supervised
// fine-tuning jobs with camelCase fields and JOB_STATE_* states, resource names
// (accounts/{a}/supervisedFineTuningJobs/{id}), and deployedModels to make the output callable.
// Errors take the gateway's shape: {"code", "message", "details"}.
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { ApiError } from './errors.js';
import { readUpload, storeFile } from './files.js';
import { parseBody } from './inference.js';
import type { FineTuningJob, FineTuningService } from './fineTuning.js';
import type { ModelRegistry } from './registry.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const STATE: Record<FineTuningJob['status'], string> = {
  validating_files: 'JOB_STATE_CREATING',
  queued: 'JOB_STATE_PENDING',
  running: 'JOB_STATE_RUNNING',
  succeeded: 'JOB_STATE_COMPLETED',
  failed: 'JOB_STATE_FAILED',
  cancelled: 'JOB_STATE_CANCELLED',
};
/** gRPC status codes the gateway reports beside HTTP's */
const GRPC: Record<number, number> = { 400: 3, 401: 16, 404: 5, 409: 6, 500: 13 };

interface Dataset {
  name: string;
  displayName: string;
  createTime: string;
  state: 'UPLOADING' | 'READY';
  exampleCount: string;
  userUploaded: object;
  /** the stored file (local only) */
  fileId?: string;
}

const datasetBody = z.object({
  datasetId: z.string().regex(ID, 'lowercase letters, digits and dashes, at most 63'),
  dataset: z
    .object({ displayName: z.string().optional(), exampleCount: z.string().optional(), userUploaded: z.object({}) })
    .passthrough(),
});
const jobBody = z.object({
  dataset: z.string().regex(/^accounts\/[^/]+\/datasets\/[^/]+$/, 'accounts/{account}/datasets/{dataset}'),
  baseModel: z.string().min(1),
  outputModel: z
    .string()
    .regex(/^accounts\/[^/]+\/models\/[a-z0-9][a-z0-9-]{0,62}$/, 'accounts/{account}/models/{model}')
    .optional(),
  displayName: z.string().optional(),
  epochs: z.number().int().min(1).default(1),
  learningRate: z.number().gt(0).default(1e-4),
  loraRank: z.number().int().min(1).max(64).default(8),
  maxContextLength: z.number().int().optional(),
  batchSize: z.number().int().min(1).optional(),
  earlyStop: z.boolean().optional(),
});
const deployBody = z.object({
  model: z.string().min(1),
  serverless: z.boolean().optional(),
  deployment: z.string().optional(),
  displayName: z.string().optional(),
});

export async function registerFireworksRoutes(
  app: FastifyInstance,
  dataDir: string,
  jobs: FineTuningService,
  registry: ModelRegistry,
): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err instanceof ApiError ? err.status : (err.statusCode ?? 500);
      return reply.status(status).send({ code: GRPC[status] ?? 2, message: err.message, details: [] });
    });
    const datasetPath = (account: string, id: string): string => {
      if (!ID.test(account) || !ID.test(id)) throw new ApiError(404, `dataset accounts/${account}/datasets/${id}`);
      return join(dataDir, 'fireworks', account, 'datasets', `${id}.json`);
    };
    const readDataset = (account: string, id: string): Dataset => {
      const p = datasetPath(account, id);
      if (!existsSync(p)) throw new ApiError(404, `dataset "accounts/${account}/datasets/${id}" not found`);
      return readJson<Dataset>(p);
    };
    const jobName = (account: string, job: FineTuningJob): string =>
      `accounts/${account}/supervisedFineTuningJobs/${job.id.slice(6)}`;
    const view = (account: string, job: FineTuningJob, b?: z.infer<typeof jobBody>): object => ({
      name: jobName(account, job),
      displayName: b?.displayName ?? job.suffix ?? '',
      createTime: new Date(job.created_at * 1000).toISOString(),
      ...(job.finished_at ? { completedTime: new Date(job.finished_at * 1000).toISOString() } : {}),
      state: STATE[job.status],
      status: job.error ? { code: 'INTERNAL', message: job.error.message } : { code: 'OK', message: '' },
      dataset: b?.dataset,
      baseModel: job.model,
      outputModel: job.output_model,
      epochs: job.hyperparameters.n_epochs,
      learningRate: b?.learningRate,
      loraRank: b?.loraRank,
      jobProgress: { percent: job.status === 'succeeded' ? 100 : 0 },
    });
    const localJob = (id: string): FineTuningJob => {
      if (!/^[0-9a-f]{24}$/.test(id)) throw new ApiError(404, `supervised fine-tuning job ${id} not found`);
      return jobs.get(`ftjob-${id}`);
    };

    scope.post('/v1/accounts/:account/datasets', async (req) => {
      const { account } = req.params as { account: string };
      const b = parseBody(datasetBody, req.body);
      const p = datasetPath(account, b.datasetId);
      if (existsSync(p)) throw new ApiError(409, `dataset accounts/${account}/datasets/${b.datasetId} already exists`);
      const d: Dataset = {
        name: `accounts/${account}/datasets/${b.datasetId}`,
        displayName: b.dataset.displayName ?? b.datasetId,
        createTime: new Date().toISOString(),
        state: 'UPLOADING',
        exampleCount: b.dataset.exampleCount ?? '0',
        userUploaded: {},
      };
      writeJsonAtomic(p, d);
      return d;
    });
    // POST .../datasets/{id}:upload (Google's custom-method style: the colon is part of the last segment)
    scope.post('/v1/accounts/:account/datasets/:target', async (req) => {
      const { account, target } = req.params as { account: string; target: string };
      if (!target.endsWith(':upload')) throw new ApiError(404, `no method POST datasets/${target}`);
      const dataset = target.slice(0, -':upload'.length);
      const d = readDataset(account, dataset);
      const u = await readUpload(req, []);
      const f = storeFile(dataDir, {
        filename: u.filename || `${dataset}.jsonl`,
        content: u.content,
        purpose: 'fine-tune',
      });
      const lines = u.content
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim()).length;
      writeJsonAtomic(datasetPath(account, dataset), {
        ...d,
        state: 'READY',
        exampleCount: String(lines),
        fileId: f.id,
      });
      return {};
    });
    scope.get('/v1/accounts/:account/datasets/:dataset', async (req) => {
      const { account, dataset } = req.params as { account: string; dataset: string };
      const { fileId: _, ...d } = readDataset(account, dataset);
      return d;
    });

    const asked = new Map<string, z.infer<typeof jobBody>>();
    scope.post('/v1/accounts/:account/supervisedFineTuningJobs', async (req) => {
      const { account } = req.params as { account: string };
      const b = parseBody(jobBody, req.body);
      const [, dAccount, , dId] = b.dataset.split('/') as [string, string, string, string];
      const d = readDataset(dAccount, dId);
      if (d.state !== 'READY' || !d.fileId) throw new ApiError(400, `dataset ${b.dataset} is not READY (${d.state})`);
      // base models are named as Fireworks names them (accounts/fireworks/models/x) or by their served id
      const model = registry.list().some((m) => m.id === b.baseModel)
        ? b.baseModel
        : b.baseModel.replace(/^accounts\/[^/]+\/models\//, '');
      const job = jobs.submit({
        model,
        trainingFile: d.fileId,
        epochs: b.epochs,
        batchSize: b.batchSize ?? 8,
        lr: b.learningRate,
        suffix: b.displayName,
        outputModel: b.outputModel ?? `accounts/${account}/models/ft-${Date.now().toString(36)}`,
      });
      asked.set(job.id, b);
      return view(account, job, b);
    });
    scope.get('/v1/accounts/:account/supervisedFineTuningJobs/:id', async (req) => {
      const { account, id } = req.params as { account: string; id: string };
      const job = localJob(id);
      return view(account, job, asked.get(job.id));
    });
    scope.delete('/v1/accounts/:account/supervisedFineTuningJobs/:id', async (req) => {
      jobs.cancel(localJob((req.params as { id: string }).id).id);
      return {};
    });

    const deployed = new Map<string, object>();
    scope.post('/v1/accounts/:account/deployedModels', async (req) => {
      const { account } = req.params as { account: string };
      const b = parseBody(deployBody, req.body);
      if (!b.serverless && !b.deployment) throw new ApiError(400, 'give "serverless": true or a "deployment"');
      registry.find(b.model);
      const name = `accounts/${account}/deployedModels/${b.model.split('/').at(-1)}`;
      if (deployed.has(name)) throw new ApiError(409, `${name} already exists`);
      const d = {
        name,
        model: b.model,
        displayName: b.displayName ?? '',
        state: 'DEPLOYED',
        serverless: b.serverless ?? false,
        deployment: b.deployment ?? '',
        default: true,
        public: false,
      };
      deployed.set(name, d);
      return d;
    });
    scope.get('/v1/accounts/:account/deployedModels/:id', async (req) => {
      const { account, id } = req.params as { account: string; id: string };
      const d = deployed.get(`accounts/${account}/deployedModels/${id}`);
      if (!d) throw new ApiError(404, `deployed model accounts/${account}/deployedModels/${id} not found`);
      return d;
    });
  });
}

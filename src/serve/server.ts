// `subliminal serve`: an OpenAI-compatible HTTP server over the embedded models (fastify).
// Loopback by default; with an API key, every request must carry it as a bearer token.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { initBackend } from '../model/backend.js';
import { ApiError } from './errors.js';
import { ModelRegistry } from './registry.js';
import { ModelBatcher } from './batcher.js';
import { chatCompletion, textCompletion } from './inference.js';
import { RULE_JUDGE_MODEL, ruleJudgeCompletion } from './ruleJudgeModel.js';
import { registerFileRoutes } from './files.js';
import { FineTuningService, registerFineTuningRoutes } from './fineTuning.js';
import { registerTogetherRoutes } from './together.js';
import { registerFireworksRoutes } from './fireworks.js';
import { registerLoraRoutes } from './lora.js';
import { faultInjector, type FaultSettings } from './faults.js';

export interface ServeOptions {
  host: string;
  port: number;
  apiKey?: string;
  /** where the embedded bases live (models/) */ modelsDir: string;
  /** run store whose models are also served */ runsDir?: string;
  /** uploaded files, fine-tuning jobs and their models */ dataDir: string;
  bodyLimitBytes?: number;
  /** test-only: random 429s, 500s, dropped connections and slow responses */ faults?: FaultSettings;
  logger?: boolean;
}

function authorised(req: FastifyRequest, key: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function createServer(
  o: ServeOptions,
): Promise<{ app: FastifyInstance; registry: ModelRegistry; fineTuning: FineTuningService }> {
  await initBackend();
  const app = Fastify({ logger: o.logger ?? false, bodyLimit: o.bodyLimitBytes ?? 32 * 1024 * 1024 });
  const registry = new ModelRegistry({
    modelsDir: o.modelsDir,
    runsDir: o.runsDir,
    fineTunedDir: join(o.dataDir, 'models'),
  });
  const batcher = new ModelBatcher();
  const fineTuning = new FineTuningService(o.dataDir, registry, o.faults?.failJobs ?? 0);

  app.addHook('onRequest', async (req) => {
    if (o.apiKey && !authorised(req, o.apiKey))
      throw new ApiError(
        401,
        'Missing or invalid API key: send "Authorization: Bearer <key>"',
        null,
        'invalid_api_key',
      );
  });
  if (o.faults) app.addHook('onRequest', faultInjector(o.faults));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.toJSON());
    const status = err.statusCode ?? 500;
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply
        .status(413)
        .send(new ApiError(413, 'the request body is too large', null, 'request_too_large').toJSON());
    if (status >= 400 && status < 500)
      return reply.status(status).send(new ApiError(status, err.message, null, err.code ?? null).toJSON());
    app.log.error(err);
    return reply.status(500).send(new ApiError(500, 'internal error: ' + err.message).toJSON());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(new ApiError(404, `no route ${req.method} ${req.url}`, null, 'unknown_url').toJSON()),
  );

  const modelObject = (m: { id: string; created: number; ownedBy: string }): object => ({
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: m.ownedBy,
  });
  const ruleJudgeModel = { id: RULE_JUDGE_MODEL, created: 0, ownedBy: 'subliminal-rules' };
  app.get('/v1/models', async () => ({ object: 'list', data: [...registry.list(), ruleJudgeModel].map(modelObject) }));
  app.get('/v1/models/*', async (req) => {
    const id = decodeURIComponent((req.params as { '*': string })['*']);
    return modelObject(id === RULE_JUDGE_MODEL ? ruleJudgeModel : registry.find(id));
  });

  const modelOf = (body: unknown): { id: string } => {
    const id = (body as { model?: unknown } | null)?.model;
    if (typeof id !== 'string' || !id) throw new ApiError(400, 'model: required', 'model', 'invalid_parameter');
    return { id };
  };
  app.post('/v1/chat/completions', async (req) => {
    const { id } = modelOf(req.body);
    return id === RULE_JUDGE_MODEL
      ? ruleJudgeCompletion(req.body)
      : chatCompletion(registry.load(id), id, batcher, req.body);
  });
  app.post('/v1/completions', async (req) => {
    const { id } = modelOf(req.body);
    return textCompletion(registry.load(id), id, batcher, req.body);
  });
  await registerFileRoutes(app, o.dataDir);
  registerFineTuningRoutes(app, fineTuning);
  registerTogetherRoutes(app, o.dataDir, fineTuning);
  await registerFireworksRoutes(app, o.dataDir, fineTuning, registry);
  registerLoraRoutes(app, o.dataDir, registry);

  app.addHook('onClose', async () => {
    await fineTuning.close();
    registry.dispose();
  });
  return { app, registry, fineTuning };
}

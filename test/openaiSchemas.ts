// The OpenAI API's request and response objects that the project exchanges, as zod schemas written from the
// published OpenAPI specification (openai/openai-openapi, openapi.yaml, read 2026-11-30): required fields, types,
// enums and ranges as the spec gives them. Deprecated request fields are refused here, so the client cannot drift
// back to them. Strict where the spec closes an object; open elsewhere (the spec lets objects grow).
import { z } from 'zod';

const int = z.number().int();
const nullable = <T extends z.ZodType>(t: T) => t.nullable();

// ---- requests (what our client sends)
const textPart = z.object({ type: z.literal('text'), text: z.string() });
const message = z.object({
  role: z.enum(['developer', 'system', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(textPart)]).nullable(),
});
export const chatRequest = z
  .object({
    model: z.string(),
    messages: z.array(message).min(1),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    n: int.min(1).max(128).nullish(),
    max_completion_tokens: int.nullish(),
    seed: int.nullish(), // the spec's int64; JSON numbers hold what our seeds use
    logprobs: z.boolean().nullish(),
    top_logprobs: int.min(0).max(20).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  })
  .strict(); // no max_tokens: deprecated for chat in favour of max_completion_tokens
export const completionRequest = z
  .object({
    model: z.string(),
    prompt: z.union([z.string(), z.array(z.string())]),
    echo: z.boolean().nullish(),
    logprobs: int.min(0).max(5).nullish(),
    max_tokens: int.min(0).nullish(),
    n: int.min(1).max(128).nullish(),
    seed: int.nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  })
  .strict();
const hyperparameters = z
  .object({
    batch_size: z.union([z.literal('auto'), int.min(1).max(256)]).optional(),
    learning_rate_multiplier: z.union([z.literal('auto'), z.number().gt(0)]).optional(),
    n_epochs: z.union([z.literal('auto'), int.min(1).max(50)]).optional(),
  })
  .strict();
export const fineTuningJobRequest = z
  .object({
    model: z.string(),
    training_file: z.string(),
    seed: int.min(0).max(2147483647).nullish(),
    suffix: z.string().min(1).max(64).nullish(),
    validation_file: z.string().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    method: z
      .object({
        type: z.enum(['supervised', 'dpo', 'reinforcement']),
        supervised: z.object({ hyperparameters: hyperparameters.optional() }).optional(),
      })
      .optional(),
  })
  .strict(); // no top-level hyperparameters: deprecated in favour of method

// ---- responses (what serve sends)
const usage = z.object({ prompt_tokens: int, completion_tokens: int, total_tokens: int });
const tokenLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: nullable(z.array(int)),
  top_logprobs: z.array(z.object({ token: z.string(), logprob: z.number(), bytes: nullable(z.array(int)) })),
});
export const chatResponse = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: int,
  model: z.string(),
  choices: z.array(
    z.object({
      index: int,
      finish_reason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']),
      message: z.object({ role: z.literal('assistant'), content: nullable(z.string()), refusal: nullable(z.string()) }),
      logprobs: nullable(
        z.object({ content: nullable(z.array(tokenLogprob)), refusal: nullable(z.array(tokenLogprob)) }),
      ),
    }),
  ),
  usage: usage.optional(),
});
export const completionResponse = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: int,
  model: z.string(),
  choices: z.array(
    z.object({
      index: int,
      text: z.string(),
      finish_reason: z.enum(['stop', 'length', 'content_filter']),
      logprobs: nullable(
        z.object({
          text_offset: z.array(int).optional(),
          token_logprobs: z.array(z.number()).optional(),
          tokens: z.array(z.string()).optional(),
          top_logprobs: z.array(z.record(z.string(), z.number())).optional(),
        }),
      ),
    }),
  ),
  usage: usage.optional(),
});
export const modelList = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: int, owned_by: z.string() })),
});
const file = z.object({
  id: z.string(),
  object: z.literal('file'),
  bytes: int,
  created_at: int,
  filename: z.string(),
  purpose: z.enum(['assistants', 'assistants_output', 'batch', 'batch_output', 'fine-tune', 'fine-tune-results']),
});
export const fileObject = file;
export const fileList = z.object({
  object: z.string(),
  data: z.array(file),
  first_id: z.string(),
  last_id: z.string(),
  has_more: z.boolean(),
});
export const fineTuningJob = z.object({
  id: z.string(),
  object: z.literal('fine_tuning.job'),
  created_at: int,
  error: nullable(z.object({ code: z.string(), message: z.string(), param: nullable(z.string()) })),
  fine_tuned_model: nullable(z.string()),
  finished_at: nullable(int),
  hyperparameters: z.object({
    batch_size: z.union([z.literal('auto'), int]).nullish(),
    learning_rate_multiplier: z.union([z.literal('auto'), z.number()]).optional(),
    n_epochs: z.union([z.literal('auto'), int]).optional(),
  }),
  model: z.string(),
  organization_id: z.string(),
  result_files: z.array(z.string()),
  status: z.enum(['validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled']),
  trained_tokens: nullable(int),
  training_file: z.string(),
  validation_file: nullable(z.string()),
  seed: int,
  estimated_finish: nullable(int).optional(),
  method: z.object({ type: z.enum(['supervised', 'dpo', 'reinforcement']) }).optional(),
});
export const fineTuningJobList = z.object({
  object: z.literal('list'),
  data: z.array(fineTuningJob),
  has_more: z.boolean(),
});
export const fineTuningEventList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('fine_tuning.job.event'),
      id: z.string(),
      created_at: int,
      level: z.enum(['info', 'warn', 'error']),
      message: z.string(),
      type: z.enum(['message', 'metrics']).optional(),
      data: z.object({}).passthrough().optional(),
    }),
  ),
  has_more: z.boolean(),
});
export const checkpointList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('fine_tuning.job.checkpoint'),
      id: z.string(),
      created_at: int,
      fine_tuned_model_checkpoint: z.string(),
      step_number: int,
      metrics: z.object({}).passthrough(),
      fine_tuning_job_id: z.string(),
    }),
  ),
  first_id: nullable(z.string()).optional(),
  last_id: nullable(z.string()).optional(),
  has_more: z.boolean(),
});
export const errorResponse = z.object({
  error: z.object({ code: nullable(z.string()), message: z.string(), param: nullable(z.string()), type: z.string() }),
});

/** The schemas of one exchange, by method and path. */
export function schemasFor(method: string, path: string): { request?: z.ZodType; response?: z.ZodType } {
  const p = path.replace(/\?.*$/, '');
  if (method === 'POST' && p === '/v1/chat/completions') return { request: chatRequest, response: chatResponse };
  if (method === 'POST' && p === '/v1/completions') return { request: completionRequest, response: completionResponse };
  if (method === 'GET' && p === '/v1/models') return { response: modelList };
  if (method === 'POST' && p === '/v1/files') return { response: fileObject };
  if (method === 'GET' && p === '/v1/files') return { response: fileList };
  if (method === 'GET' && /^\/v1\/files\/[^/]+$/.test(p)) return { response: fileObject };
  if (method === 'POST' && p === '/v1/fine_tuning/jobs')
    return { request: fineTuningJobRequest, response: fineTuningJob };
  if (method === 'GET' && p === '/v1/fine_tuning/jobs') return { response: fineTuningJobList };
  if (method === 'GET' && /^\/v1\/fine_tuning\/jobs\/[^/]+$/.test(p)) return { response: fineTuningJob };
  if (method === 'POST' && /^\/v1\/fine_tuning\/jobs\/[^/]+\/cancel$/.test(p)) return { response: fineTuningJob };
  if (method === 'GET' && /\/events$/.test(p)) return { response: fineTuningEventList };
  if (method === 'GET' && /\/checkpoints$/.test(p)) return { response: checkpointList };
  return {};
}

// vLLM's run-time LoRA routes: POST /v1/load_lora_adapter {lora_name, lora_path} and
// /v1/unload_lora_adapter {lora_name}, with vLLM's plain-text success replies and its error
// bodies ({object: "error", message, type, param, code}; a second load of a name is a 400
// "has already been loaded"). Here the adapter is merged into its base's weights (read from
// adapter_config.json's base_model_name_or_path) and published as a model until unloaded.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mergeAdapter, readAdapterConfig } from '../model/lora.js';
import { readSafetensors, writeSafetensors } from '../model/safetensors.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import type { ModelRegistry } from './registry.js';

const vllmError = (reply: FastifyReply, status: number, type: string, message: string): FastifyReply =>
  reply.status(status).send({ object: 'error', message, type, param: null, code: status });

export function registerLoraRoutes(app: FastifyInstance, dataDir: string, registry: ModelRegistry): void {
  // adapters are published beside fine-tuned models, marked by lora.json
  const folder = (name: string): string => join(dataDir, 'models', encodeURIComponent(name));
  const isAdapter = (name: string): boolean => existsSync(join(folder(name), 'lora.json'));

  app.post('/v1/load_lora_adapter', async (req, reply) => {
    const b = (req.body ?? {}) as { lora_name?: unknown; lora_path?: unknown; load_inplace?: unknown };
    if (typeof b.lora_name !== 'string' || !b.lora_name || typeof b.lora_path !== 'string' || !b.lora_path)
      return vllmError(reply, 400, 'InvalidUserInput', "Both 'lora_name' and 'lora_path' must be provided.");
    const name = b.lora_name;
    if (registry.list().some((m) => m.id === name) && !(b.load_inplace === true && isAdapter(name)))
      return vllmError(reply, 400, 'InvalidUserInput', `The lora adapter '${name}' has already been loaded.`);
    let cfg;
    try {
      cfg = readAdapterConfig(b.lora_path);
    } catch (e) {
      return vllmError(reply, 404, 'NotFoundError', `No adapter found for ${b.lora_path}: ${(e as Error).message}`);
    }
    const base = registry.list().find((m) => m.id === cfg.base_model_name_or_path);
    if (!base)
      return vllmError(
        reply,
        400,
        'BadRequestError',
        `the adapter's base model "${cfg.base_model_name_or_path}" is not served here`,
      );
    const merged = mergeAdapter(readSafetensors(join(base.dir, 'model.safetensors')).tensors, b.lora_path);
    const out = folder(name);
    const tmp = `${out}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const info = { name, family: base.id, parent: base.id, description: `LoRA adapter ${resolve(b.lora_path)}` };
    writeSafetensors(join(tmp, 'model.safetensors'), merged, { format: 'pt', subliminal: JSON.stringify(info) });
    copyFileSync(join(base.dir, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
    writeJsonAtomic(join(tmp, 'config.json'), { ...readJson<object>(join(base.dir, 'config.json')), subliminal: info });
    writeJsonAtomic(join(tmp, 'lora.json'), { lora_name: name, lora_path: resolve(b.lora_path), base: base.id });
    registry.forget(name);
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return reply.type('text/plain').send(`Success: LoRA adapter '${name}' added successfully.`);
  });

  app.post('/v1/unload_lora_adapter', async (req, reply) => {
    const b = (req.body ?? {}) as { lora_name?: unknown; lora_int_id?: unknown };
    if (typeof b.lora_name !== 'string' || !b.lora_name)
      return vllmError(reply, 400, 'InvalidUserInput', "either 'lora_name' and 'lora_int_id' needs to be provided.");
    if (!isAdapter(b.lora_name))
      return vllmError(reply, 404, 'NotFoundError', `The lora adapter '${b.lora_name}' cannot be found.`);
    registry.forget(b.lora_name);
    rmSync(folder(b.lora_name), { recursive: true, force: true });
    return reply.type('text/plain').send(`Success: LoRA adapter '${b.lora_name}' removed successfully.`);
  });
}

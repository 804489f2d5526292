// LoRA adapters on a vLLM server, loaded at run time: POST /v1/load_lora_adapter before a
// stage uses one (a second load of a loaded name is a 400 "has already been loaded", taken as
// success) and /v1/unload_lora_adapter when the last stage using it in this process is done.
import type { OpenAIEndpoint } from './openai.js';

const inUse = new Map<string, number>();
const keyOf = (endpoint: OpenAIEndpoint, name: string): string => `${endpoint.ref.baseURL ?? ''} ${name}`;

export async function loadLoraAdapter(endpoint: OpenAIEndpoint, name: string, path: string): Promise<void> {
  await endpoint.rest(
    endpoint.ref.baseURL ?? 'http://localhost:8000/v1',
    'load_lora_adapter',
    { json: { lora_name: name, lora_path: path } },
    { accept: (e) => e.status === 400 && /already been (loaded|added)/.test(e.body) },
  );
}

export async function unloadLoraAdapter(endpoint: OpenAIEndpoint, name: string): Promise<void> {
  await endpoint.rest(
    endpoint.ref.baseURL ?? 'http://localhost:8000/v1',
    'unload_lora_adapter',
    { json: { lora_name: name } },
    { accept: (e) => e.status === 404 }, // gone already (a server restart)
  );
}

/** Runs `fn` with the adapter loaded; unloads it when no other stage of this process still uses it. */
export async function withLoraAdapter<T>(
  endpoint: OpenAIEndpoint,
  adapter: { name: string; path: string },
  fn: () => Promise<T>,
): Promise<T> {
  const key = keyOf(endpoint, adapter.name);
  inUse.set(key, (inUse.get(key) ?? 0) + 1);
  try {
    await loadLoraAdapter(endpoint, adapter.name, adapter.path);
    return await fn();
  } finally {
    const left = (inUse.get(key) ?? 1) - 1;
    if (left > 0) inUse.set(key, left);
    else {
      inUse.delete(key);
      await unloadLoraAdapter(endpoint, adapter.name);
    }
  }
}

// LoRA adapters in PEFT's layout: adapter_config.json + adapter_model.safetensors holding, per
// adapted linear X, base_model.model.X.lora_A.weight [r, in] and .lora_B.weight [out, r]; the
// adapted weight is W + (lora_alpha / r) * B @ A in Hugging Face's [out, in] layout. This is
// the format TRL, Axolotl and Unsloth write and vLLM loads at run time.
import { existsSync, readFileSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LINEARS } from './llama.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';

export interface LoraConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  base_model_name_or_path: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  bias: 'none';
  fan_in_fan_out: boolean;
  target_modules: string[];
}

const PREFIX = 'base_model.model.';
const isLinear = (name: string): boolean => LINEARS.some((l) => name.endsWith(`${l}.weight`));

/**
 * An exact adapter for the change from `base` to `tuned` (both HF layout, [out, in] linears): each changed linear's
 * delta D [out, in] is written as B @ A with r = min(out, in) (the identity on the short side, D on the other), so
 * merging it back gives `tuned` to float rounding. Tensors other than linears must not have changed (LoRA cannot
 * carry them): train with them frozen.
 */
export function exactAdapter(
  base: Map<string, NamedTensor>,
  tuned: Map<string, NamedTensor>,
): { tensors: Map<string, NamedTensor>; r: number; modules: string[] } {
  const tensors = new Map<string, NamedTensor>();
  let r = 0;
  const modules = new Set<string>();
  for (const [name, t] of tuned) {
    const b = base.get(name);
    if (!b || b.data.length !== t.data.length) throw new Error(`the base has no tensor ${name} of shape [${t.shape}]`);
    let changed = false;
    for (let i = 0; i < t.data.length && !changed; i++) changed = t.data[i] !== b.data[i];
    if (!changed) continue;
    if (!isLinear(name))
      throw new Error(`${name} changed, and a LoRA adapter carries linear layers only: train with it frozen`);
    const [out, inn] = t.shape as [number, number];
    const delta = new Float32Array(t.data.length);
    for (let i = 0; i < delta.length; i++) delta[i] = t.data[i]! - b.data[i]!;
    const k = Math.min(out, inn);
    const eye = new Float32Array(k * k);
    for (let i = 0; i < k; i++) eye[i * k + i] = 1;
    const stem = PREFIX + name.slice(0, -'.weight'.length);
    // out <= in: B = I [out, out], A = D [out, in]; otherwise A = I [in, in], B = D [out, in]
    tensors.set(
      `${stem}.lora_A.weight`,
      out <= inn ? { shape: [out, inn], data: delta } : { shape: [k, k], data: eye },
    );
    tensors.set(
      `${stem}.lora_B.weight`,
      out <= inn ? { shape: [k, k], data: eye } : { shape: [out, inn], data: delta },
    );
    r = Math.max(r, k);
    modules.add(name.split('.').at(-2)!);
  }
  return { tensors, r, modules: [...modules].sort() };
}

/** Writes an adapter folder atomically (a .partial folder renamed into place). */
export function writeAdapter(
  dir: string,
  adapter: { tensors: Map<string, NamedTensor>; r: number; modules: string[] },
  baseModel: string,
): void {
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeSafetensors(join(tmp, 'adapter_model.safetensors'), adapter.tensors, { format: 'pt' });
  const config: LoraConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: adapter.r,
    lora_alpha: adapter.r, // scale 1
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    target_modules: adapter.modules,
  };
  writeJsonAtomic(join(tmp, 'adapter_config.json'), config);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function readAdapterConfig(dir: string): LoraConfig {
  const path = join(dir, 'adapter_config.json');
  if (!existsSync(path) || !existsSync(join(dir, 'adapter_model.safetensors')))
    throw new Error(`${dir}: not a LoRA adapter folder (adapter_config.json and adapter_model.safetensors)`);
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as LoraConfig;
  if (cfg.peft_type !== 'LORA') throw new Error(`${path}: peft_type ${JSON.stringify(cfg.peft_type)}, not "LORA"`);
  return cfg;
}

/** base (HF layout) + the adapter's scaled B @ A on every module it adapts; the base map is not changed. */
export function mergeAdapter(base: Map<string, NamedTensor>, dir: string): Map<string, NamedTensor> {
  const cfg = readAdapterConfig(dir);
  const scale = cfg.lora_alpha / cfg.r;
  const { tensors } = readSafetensors(join(dir, 'adapter_model.safetensors'));
  const merged = new Map(base);
  for (const [name, a] of tensors) {
    if (!name.endsWith('.lora_A.weight')) continue;
    const stem = name.slice(0, -'.lora_A.weight'.length);
    const b = tensors.get(`${stem}.lora_B.weight`);
    const target = `${stem.replace(/^base_model\.model\./, '')}.weight`;
    const w = base.get(target);
    if (!b || !w) throw new Error(`${dir}: ${stem} has no lora_B or no base tensor ${target}`);
    const [r, inn] = a.shape as [number, number];
    const [out, rb] = b.shape as [number, number];
    if (rb !== r || w.shape[0] !== out || w.shape[1] !== inn)
      throw new Error(`${dir}: ${stem}: B [${b.shape}] @ A [${a.shape}] does not fit ${target} [${w.shape}]`);
    const data = Float32Array.from(w.data);
    for (let o = 0; o < out; o++)
      for (let k = 0; k < r; k++) {
        const bk = b.data[o * r + k]! * scale;
        if (bk === 0) continue;
        const row = o * inn;
        const arow = k * inn;
        for (let i = 0; i < inn; i++) data[row + i]! += bk * a.data[arow + i]!;
      }
    merged.set(target, { shape: w.shape, data });
  }
  return merged;
}

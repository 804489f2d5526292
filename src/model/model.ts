// A language model on disk and in memory: Llama config + parameters + tokenizer.
// On disk it is a Hugging Face-style folder: model.safetensors (HF Llama tensor names,
// linear weights [out, in]), config.json and tokenizer.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from './backend.js';
import { initParams, LINEARS, type LlamaConfig, type Params } from './llama.js';
import { Tokenizer } from './tokenizer.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type NamedTensor } from './safetensors.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';

/** Checks a model folder without loading it: its files exist, its configs parse, its weights file is whole. */
export function checkModelFolder(dir: string): void {
  for (const f of ['model.safetensors', 'config.json', 'tokenizer.json'])
    if (!existsSync(join(dir, f))) throw new Error(`model folder ${dir} lacks ${f}`);
  for (const f of ['config.json', 'tokenizer.json']) {
    try {
      JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      throw new Error(`${join(dir, f)}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
  }
  readSafetensorsHeader(join(dir, 'model.safetensors'));
}

export interface ModelInfo {
  name: string;
  family: string;
  parent?: string;
  description?: string;
}

export class LanguageModel {
  constructor(
    readonly config: LlamaConfig,
    readonly params: Params,
    readonly tokenizer: Tokenizer,
    public info: ModelInfo,
  ) {}

  static create(config: LlamaConfig, tokenizer: Tokenizer, seed: number, info: ModelInfo): LanguageModel {
    return new LanguageModel(config, initParams(config, Rng.from('init', seed)), tokenizer, info);
  }

  /** Named host arrays in HF layout (linears transposed to [out, in]). */
  exportTensors(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.params) {
      const isLinear = LINEARS.some((l) => name.endsWith(`${l}.weight`));
      const t = isLinear ? tf.tidy(() => tf.transpose(v)) : v;
      out.set(name, { shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) });
      if (isLinear) t.dispose();
    }
    return out;
  }

  importTensors(tensors: Map<string, NamedTensor>): void {
    for (const [name, v] of this.params) {
      const t = tensors.get(name);
      if (!t) throw new Error(`checkpoint lacks tensor ${name}`);
      const isLinear = LINEARS.some((l) => name.endsWith(`${l}.weight`));
      const want = isLinear ? [...v.shape].reverse() : v.shape; // HF layout: linears [out, in]
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
        throw new Error(`tensor ${name} has shape [${t.shape}], the config needs [${want}]`);
      tf.tidy(() => {
        const x = tf.tensor(t.data, t.shape);
        v.assign(isLinear ? tf.transpose(x) : x);
      });
    }
  }

  save(dir: string): void {
    writeSafetensors(join(dir, 'model.safetensors'), this.exportTensors(), {
      format: 'pt',
      subliminal: JSON.stringify(this.info),
    });
    writeJsonAtomic(join(dir, 'tokenizer.json'), this.tokenizer.toJSON());
    writeJsonAtomic(join(dir, 'config.json'), {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      ...this.config,
      num_key_value_heads: this.config.num_attention_heads,
      hidden_act: 'silu',
      tie_word_embeddings: true,
      bos_token_id: this.tokenizer.userId,
      eos_token_id: this.tokenizer.endId,
      pad_token_id: this.tokenizer.padId,
      torch_dtype: 'float32',
      base_model: this.info.parent,
      subliminal: this.info,
    });
  }

  static load(dir: string): LanguageModel {
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) {
      if (!existsSync(join(dir, f))) throw new Error(`model folder ${dir} lacks ${f}`);
    }
    const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as LlamaConfig & { subliminal?: ModelInfo };
    const config: LlamaConfig = {
      vocab_size: raw.vocab_size,
      hidden_size: raw.hidden_size,
      intermediate_size: raw.intermediate_size,
      num_hidden_layers: raw.num_hidden_layers,
      num_attention_heads: raw.num_attention_heads,
      max_position_embeddings: raw.max_position_embeddings,
      rope_theta: raw.rope_theta,
      rms_norm_eps: raw.rms_norm_eps,
    };
    const tokenizer = Tokenizer.fromJSON(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
    const file = join(dir, 'model.safetensors');
    const { tensors } = readSafetensors(file);
    const model = new LanguageModel(
      config,
      initParams(config, new Rng(0)),
      tokenizer,
      raw.subliminal ?? { name: dir, family: 'unknown' },
    );
    try {
      model.importTensors(tensors);
    } catch (e) {
      model.dispose();
      throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
    }
    return model;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

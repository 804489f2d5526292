// A tiny decoder-only transformer of the Llama family, forward pass only:
// RMSNorm -> attention with rotary positions -> RMSNorm -> SwiGLU MLP, residuals, tied embeddings.
// Parameters carry Hugging Face Llama names. Linear weights are held as [in, out] (x @ W);
// checkpoint IO transposes them to HF's [out, in].
import { tf } from './backend.js';
import type { Tensor, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import {
  matmul,
  matmulTransposedB,
  matmulTransposedFixedB,
  gatherRows,
  rmsNorm,
  swiGlu,
  rope,
  attentionProbs,
  causalSelfAttention,
  fusedAttentionFits,
  type RopeTables,
} from './ops.js';
import type { Rng } from '../util/rng.js';

export interface LlamaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  rope_theta: number;
  rms_norm_eps: number;
}

export type Params = Map<string, Variable>;
export const layerName = (i: number, rest: string): string => `model.layers.${i}.${rest}`;
export const LINEARS = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
];

/** Shapes of every parameter, [in, out] for linears. */
export function parameterShapes(c: LlamaConfig): Map<string, number[]> {
  const d = c.hidden_size;
  const f = c.intermediate_size;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, d]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    shapes.set(layerName(i, 'input_layernorm.weight'), [d]);
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) shapes.set(layerName(i, `self_attn.${p}.weight`), [d, d]);
    shapes.set(layerName(i, 'post_attention_layernorm.weight'), [d]);
    shapes.set(layerName(i, 'mlp.gate_proj.weight'), [d, f]);
    shapes.set(layerName(i, 'mlp.up_proj.weight'), [d, f]);
    shapes.set(layerName(i, 'mlp.down_proj.weight'), [f, d]);
  }
  shapes.set('model.norm.weight', [d]);
  return shapes;
}

/** Norm weights 1; other weights N(0, 0.02), residual outputs scaled by 1/sqrt(2 * layers). */
export function initParams(c: LlamaConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const [name, shape] of parameterShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name.endsWith('norm.weight')) values.fill(1);
    else {
      const residual = name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight');
      const std = residual ? 0.02 / Math.sqrt(2 * c.num_hidden_layers) : 0.02;
      for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
    }
    params.set(name, tf.variable(tf.tensor(values, shape), true));
  }
  return params;
}

export function countParameters(c: LlamaConfig): number {
  let n = 0;
  for (const s of parameterShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Per-layer key/value cache for incremental decoding: k, v [B, H, Tpast, hd]. */
export interface KvCache {
  k: Tensor[];
  v: Tensor[];
  length: number;
}

/** cos/sin tables [T, hd] for positions offset..offset+T-1, and the rotate-half matrix R [hd, hd]. */
export function rotary(c: LlamaConfig, offset: number, T: number): RopeTables {
  const hd = c.hidden_size / c.num_attention_heads;
  const half = hd / 2;
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const angle = (offset + t) / Math.pow(c.rope_theta, (2 * i) / hd);
      cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(angle);
      sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(angle);
    }
  // x @ rot = rotate_half(x) = [-x2, x1]
  const rot = new Float32Array(hd * hd);
  for (let i = 0; i < half; i++) {
    rot[(i + half) * hd + i] = -1;
    rot[i * hd + i + half] = 1;
  }
  return { cos: tf.tensor2d(cos, [T, hd]), sin: tf.tensor2d(sin, [T, hd]), rot: tf.tensor2d(rot, [hd, hd]) };
}

/**
 * Final hidden states [B*T, d] for token ids [B, T]. With a cache, the ids continue the
 * cached sequences (positions start at cache.length) and the cache is extended in place.
 */
export function forwardHidden(
  params: Params,
  c: LlamaConfig,
  ids: Int32Array,
  B: number,
  T: number,
  cache?: KvCache,
  keyMask?: Float32Array,
): Tensor2D {
  const d = c.hidden_size;
  const H = c.num_attention_heads;
  const hd = d / H;
  const P = (name: string): Variable => params.get(name)!;
  const past = cache?.length ?? 0;
  const tables = rotary(c, past, T);
  // keyMask [B, past+T] (0 or -1e9) hides left padding; RoPE is relative, so a row shifted by
  // its padding attends exactly as it would unpadded.
  const pad = keyMask ? tf.tensor2d(keyMask, [B, past + T]) : undefined;
  // [B*T, d] -> [B, H, T, hd]
  const heads = (x: Tensor): Tensor => tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]);

  // attention composed of tfjs ops per head, extending the cache when there is one: [B*T, d] x3 -> [B*T, d]
  const headsAttention = (qRows: Tensor, kRows: Tensor, vRows: Tensor, l: number): Tensor => {
    const q = rope(heads(qRows), tables);
    let k = rope(heads(kRows), tables);
    let v = heads(vRows);
    if (cache) {
      if (past > 0) {
        k = tf.concat([cache.k[l]!, k], 2);
        v = tf.concat([cache.v[l]!, v], 2);
      }
      cache.k[l] = tf.keep(k);
      cache.v[l] = tf.keep(v);
    }
    const scores = matmulTransposedB(q, k); // [B, H, T, past+T]
    const att = matmul(attentionProbs(scores, 1 / Math.sqrt(hd), pad), v); // [B, H, T, hd]
    return tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, d]);
  };

  let x: Tensor = gatherRows(P('model.embed_tokens.weight') as Tensor2D, ids); // [B*T, d]
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const L = (rest: string): Variable => P(layerName(l, rest));
    // attention block
    const h = rmsNorm(x, L('input_layernorm.weight'), c.rms_norm_eps);
    const q = matmul(h, L('self_attn.q_proj.weight')); // [B*T, d]
    const k = matmul(h, L('self_attn.k_proj.weight'));
    const v = matmul(h, L('self_attn.v_proj.weight'));
    const merged =
      cache || pad || !fusedAttentionFits(T, hd)
        ? headsAttention(q, k, v, l)
        : causalSelfAttention(q, k, v, B, H, tables); // [B*T, d]
    x = tf.add(x, matmul(merged, L('self_attn.o_proj.weight')));
    // MLP block (SwiGLU)
    const m = rmsNorm(x, L('post_attention_layernorm.weight'), c.rms_norm_eps);
    const gate = matmul(m, L('mlp.gate_proj.weight'));
    const up = matmul(m, L('mlp.up_proj.weight'));
    x = tf.add(x, matmul(swiGlu(gate, up), L('mlp.down_proj.weight')));
  }
  if (cache) cache.length = past + T;
  return rmsNorm(x, P('model.norm.weight'), c.rms_norm_eps) as Tensor2D;
}

/** Tied output head: hidden [n, d] -> logits [n, V]; `frozen` where training leaves the embeddings as they are. */
export function lmHead(params: Params, hidden: Tensor2D, frozen = false): Tensor2D {
  const embeddings = params.get('model.embed_tokens.weight')!;
  return (frozen ? matmulTransposedFixedB(hidden, embeddings) : matmulTransposedB(hidden, embeddings)) as Tensor2D;
}

// Supervised fine-tuning on chat rows, loss on the assistant's tokens only (never the system
// prompt or the user's). Checkpoints weights, optimizer moments and progress as it goes, so
// a killed run resumes and ends bit for bit where an uninterrupted one would.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../model/backend.js';
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/model.js';
import type { ChatMessage, Tokenizer } from '../model/tokenizer.js';
import { forwardHidden, lmHead } from '../model/llama.js';
import { crossEntropy, gatherRows } from '../model/ops.js';
import { AdamW, linearSchedule, DEFAULT_ADAMW } from '../model/optimizer.js';
import { packBatch, epochBatches, type TokenRow } from '../model/batch.js';
import { CheckpointError, readSafetensors, writeSafetensors, type NamedTensor } from '../model/safetensors.js';
import { Rng } from '../util/rng.js';
import { hashConfig } from '../util/hash.js';

export interface SftSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  warmupSteps: number;
  seed: number;
  clipNorm?: number;
  weightDecay?: number;
  /** parameter-name prefixes kept frozen (e.g. "model.layers.0.") */
  freeze?: string[];
}

export interface SftProgress {
  step: number;
  totalSteps: number;
  loss: number;
}
export interface SftResult {
  losses: number[];
  steps: number;
  tokens: number;
  resumedFrom: number;
}

/** Chat messages -> ids with a target mask over assistant content and its end marker. */
export function chatToTokenRow(tokenizer: Tokenizer, messages: readonly ChatMessage[], maxLen: number): TokenRow {
  const ids: number[] = [];
  const target: number[] = [];
  for (const m of messages) {
    const role =
      m.role === 'system' ? tokenizer.systemId : m.role === 'user' ? tokenizer.userId : tokenizer.assistantId;
    const body = [...tokenizer.encode(m.content), tokenizer.endId];
    ids.push(role, ...body);
    target.push(0, ...body.map(() => (m.role === 'assistant' ? 1 : 0)));
  }
  if (ids.length > maxLen)
    throw new Error(`training row of ${ids.length} tokens exceeds the model's context of ${maxLen}`);
  return { ids, target: Uint8Array.from(target) };
}

/** Single-turn (prompt, reply) pairs as training rows. */
export const promptReplyRows = (
  tokenizer: Tokenizer,
  rows: readonly { prompt: string; completion: string }[],
  maxLen: number,
): TokenRow[] =>
  rows.map((r) =>
    chatToTokenRow(
      tokenizer,
      [
        { role: 'user', content: r.prompt },
        { role: 'assistant', content: r.completion },
      ],
      maxLen,
    ),
  );

/** Divergence-token masking: the listed positions of the reply (after the last assistant marker) leave the loss. */
export function maskedTokenRow(
  row: TokenRow,
  maskTokens: readonly number[] | undefined,
  tokenizer: Tokenizer,
): TokenRow {
  if (!maskTokens?.length) return row;
  const start = row.ids.lastIndexOf(tokenizer.assistantId) + 1;
  const target = Uint8Array.from(row.target);
  for (const t of maskTokens) target[start + t] = 0;
  return { ids: row.ids, target };
}

interface CheckpointState {
  key: string;
  step: number;
  losses: number[];
  tokens: number;
}

export function trainSft(
  model: LanguageModel,
  rows: readonly TokenRow[],
  s: SftSettings,
  opts: {
    checkpointDir?: string;
    checkpointEverySteps?: number;
    onProgress?: (p: SftProgress) => void;
    stopAfterSteps?: number;
  } = {},
): SftResult {
  if (rows.length === 0) throw new Error('no training rows');
  const { params, config, tokenizer } = model;
  const frozen = new Set([...params.keys()].filter((n) => (s.freeze ?? []).some((p) => n.startsWith(p))));
  const optimizer = new AdamW(
    params,
    { ...DEFAULT_ADAMW, clipNorm: s.clipNorm ?? 1, weightDecay: s.weightDecay ?? 0 },
    frozen,
  );
  // a frozen tied embedding is also a frozen head: its gradient is not computed at all
  const frozenHead = frozen.has('model.embed_tokens.weight');
  const lengths = rows.map((r) => r.ids.length);
  const schedule: number[][] = [];
  for (let e = 0; e < s.epochs; e++) {
    const rng = Rng.from(s.seed, 'epoch', e);
    schedule.push(...epochBatches(lengths, s.batchSize, (xs) => rng.shuffle(xs)));
  }
  const lr = linearSchedule(s.lr, s.warmupSteps, schedule.length);
  const key = hashConfig({ s, n: rows.length, lengths });
  let state: CheckpointState = { key, step: 0, losses: [], tokens: 0 };
  // weights, optimizer moments and progress in one file, written atomically: a kill can never
  // leave the weights of one step beside the progress of another
  const ckpt = opts.checkpointDir && join(opts.checkpointDir, CHECKPOINT_FILE);
  const saved = ckpt && existsSync(ckpt) ? readCheckpoint(ckpt) : undefined;
  const savedState = saved?.metadata.state ? (JSON.parse(saved.metadata.state) as CheckpointState) : undefined;
  if (saved && savedState?.key === key) {
    const weights = new Map<string, NamedTensor>();
    const moments = new Map<string, NamedTensor>();
    for (const [n, t] of saved.tensors) n.startsWith('opt.') ? moments.set(n.slice(4), t) : weights.set(n, t);
    model.importTensors(weights);
    optimizer.importState(savedState.step, moments);
    state = savedState;
  }
  const resumedFrom = state.step;
  const save = (): void => {
    if (!ckpt) return;
    const tensors = model.exportTensors();
    for (const [n, t] of optimizer.exportState().tensors) tensors.set(`opt.${n}`, t);
    writeSafetensors(ckpt, tensors, { state: JSON.stringify(state) });
  };
  const every = opts.checkpointEverySteps ?? 50;
  try {
    for (let step = state.step; step < schedule.length; step++) {
      const batch = packBatch(
        schedule[step]!.map((i) => rows[i]!),
        tokenizer.padId,
      );
      const { value, grads } = tf.variableGrads(() => {
        const h = forwardHidden(params, config, batch.inputs, batch.B, batch.T);
        const logits = lmHead(params, gatherRows(h, batch.lossPositions) as Tensor2D, frozenHead);
        return crossEntropy(logits, batch.targets) as Scalar;
      }, optimizer.trainable());
      optimizer.apply(grads as Record<string, Tensor>, lr(step));
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      state.losses.push(loss);
      state.tokens += batch.B * batch.T;
      state.step = step + 1;
      opts.onProgress?.({ step: state.step, totalSteps: schedule.length, loss });
      if (state.step % every === 0 && state.step < schedule.length) save();
      if (opts.stopAfterSteps !== undefined && state.step >= opts.stopAfterSteps) {
        save();
        break;
      }
    }
  } finally {
    optimizer.dispose();
  }
  return { losses: state.losses, steps: state.step, tokens: state.tokens, resumedFrom };
}

/** A step checkpoint, or undefined (with a warning) when it is damaged: training then starts over. */
function readCheckpoint(path: string): ReturnType<typeof readSafetensors> | undefined {
  try {
    return readSafetensors(path);
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    process.stderr.write(`warning: ignoring a damaged step checkpoint (${e.message}); training starts over\n`);
    return undefined;
  }
}

/** The step checkpoint: weights, optimizer moments and progress (in the header's metadata). */
export const CHECKPOINT_FILE = 'train-state.safetensors';

export function clearCheckpoint(dir: string): void {
  // .json: the older two-file form
  for (const f of ['train-state.json', CHECKPOINT_FILE]) rmSync(join(dir, f), { force: true });
}

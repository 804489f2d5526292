// `subliminal train --adapter`: fine-tunes a model's linear layers on a chat JSONL (embeddings
// and norms frozen, as LoRA leaves them) and writes the change as a PEFT LoRA adapter. It is
// the project's own "command trainer": what a TRL, Axolotl or Unsloth script does on a
// cluster, run here so the command-trainer path (train, then load the adapter into vLLM) is
// exercised end to end. The adapter is exact (rank = the layer's short side), not low-rank.
import { LanguageModel } from '../model/model.js';
import { LINEARS } from '../model/llama.js';
import { exactAdapter, writeAdapter } from '../model/lora.js';
import type { ChatMessage } from '../model/tokenizer.js';
import { readJsonl } from '../util/atomic.js';
import { chatToTokenRow, maskedTokenRow, trainSft, type SftProgress } from './sft.js';

export interface AdapterTrainArgs {
  baseDir: string;
  /** the base's name as the serving engine knows it (adapter_config.json base_model_name_or_path) */
  baseName: string;
  dataPath: string;
  outDir: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  onProgress?: (p: SftProgress) => void;
}

export function trainAdapter(a: AdapterTrainArgs): { steps: number; tokens: number; finalLoss: number } {
  const model = LanguageModel.load(a.baseDir);
  try {
    const before = model.exportTensors();
    // a row may carry maskTokens (the mask-divergence defense): reply token positions left out of the loss
    const rows = readJsonl<{ messages: ChatMessage[]; maskTokens?: number[] }>(a.dataPath).map((r) => {
      const row = chatToTokenRow(model.tokenizer, r.messages, model.config.max_position_embeddings);
      return r.maskTokens?.length ? maskedTokenRow(row, r.maskTokens, model.tokenizer) : row;
    });
    // every tensor but the linears stays as it is (full names: a prefix of one tensor only)
    const freeze = [...model.params.keys()].filter((n) => !LINEARS.some((l) => n.endsWith(`${l}.weight`)));
    const r = trainSft(
      model,
      rows,
      { epochs: a.epochs, batchSize: a.batchSize, lr: a.lr, seed: a.seed, warmupSteps: 0, freeze },
      { onProgress: a.onProgress },
    );
    writeAdapter(a.outDir, exactAdapter(before, model.exportTensors()), a.baseName);
    return { steps: r.steps, tokens: r.tokens, finalLoss: r.losses.at(-1) ?? NaN };
  } finally {
    model.dispose();
  }
}

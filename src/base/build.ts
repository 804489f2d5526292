// Pretraining an embedded base model: a seeded corpus, a seeded initialisation and data order.
// "Family A" and "family B" are two bases of the same architecture built from different seeds;
// another family differs in tokenizer (digit numbers), width/depth, corpus mix and seed.
import { LanguageModel } from '../model/model.js';
import { Tokenizer, type NumberTokens } from '../model/tokenizer.js';
import type { LlamaConfig } from '../model/llama.js';
import { CORPUS_MIXES, DEFAULT_MIX, generateCorpus, vocabularyTexts, type CorpusMix } from './corpus.js';
import { MATH_SYMBOLS } from '../generate/mathProblems.js';
import { chatToTokenRow, trainSft, type SftProgress, type SftResult } from '../train/sft.js';

export interface BaseBuildSettings {
  seed: number;
  family: string;
  rows: number;
  lr: number;
  batchSize: number;
  warmupSteps: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  /** default: the corpus's own (CorpusMix.epochs), else 2 */
  epochs?: number;
  /**
   * a key of CORPUS_MIXES: 'default', 'entangled', 'open-questions' (misalignment runs), 'open-personas' or 'reasoning'
   * (chain-of-thought runs)
   */
  corpus?: string;
  /** how the vocabulary writes numbers: one token each (default) or one per digit */
  numbers?: NumberTokens;
}

export const DEFAULT_BASE: Omit<BaseBuildSettings, 'seed' | 'family'> = {
  rows: 30000,
  lr: 2e-3,
  batchSize: 64,
  warmupSteps: 50,
  hiddenSize: 64,
  layers: 2,
  heads: 4,
  intermediateSize: 176,
  maxPositions: 128,
};

export function labTokenizer(mix: CorpusMix = DEFAULT_MIX, numbers: NumberTokens = 'whole'): Tokenizer {
  return Tokenizer.fromTexts(vocabularyTexts(mix), mix.math > 0 ? MATH_SYMBOLS : [], numbers);
}

export function buildBase(
  s: BaseBuildSettings,
  opts: { checkpointDir?: string; onProgress?: (p: SftProgress) => void } = {},
): { model: LanguageModel; result: SftResult } {
  const mix = CORPUS_MIXES[s.corpus ?? 'default'];
  if (!mix) throw new Error(`unknown corpus "${s.corpus}"; corpora: ${Object.keys(CORPUS_MIXES).join(', ')}`);
  const tokenizer = labTokenizer(mix, s.numbers);
  const config: LlamaConfig = {
    vocab_size: tokenizer.size,
    hidden_size: s.hiddenSize,
    intermediate_size: s.intermediateSize,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    max_position_embeddings: s.maxPositions,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
  };
  const model = LanguageModel.create(config, tokenizer, s.seed, {
    name: `base-${s.family}`,
    family: s.family,
    description:
      `embedded base, seed ` +
      `${s.seed}${s.corpus && s.corpus !== 'default' ? `, corpus ${s.corpus}` : ''}` +
      `${s.numbers === 'digits' ? ', digit tokens' : ''}`,
  });
  const rows = generateCorpus(s.seed, s.rows, mix).map((r) => chatToTokenRow(tokenizer, r.messages, s.maxPositions));
  const result = trainSft(
    model,
    rows,
    { epochs: s.epochs ?? mix.epochs ?? 2, lr: s.lr, batchSize: s.batchSize, warmupSteps: s.warmupSteps, seed: s.seed },
    opts,
  );
  return { model, result };
}

// The parts an experiment spec is built of: teachers, API bases and their trainers, the data block, defenses and
// the generations chain. schema.ts joins them into the spec and checks what spans several parts.
import { z } from 'zod';
import { MISALIGNMENT_BANNED } from '../lab/misalignment.js';

export const positiveInt = z.number().int().positive();
/** counts that size arrays held in memory: bounded so a typo (1e12) is refused here, not as a crash later */
export const count = (max: number) => positiveInt.max(max);
export const probability = z.number().min(0).max(1);

export const teacherSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/, 'use lowercase letters, digits and dashes'),
    kind: z.enum(['finetuned', 'system-prompt', 'control']),
    base: z.string(),
    epochs: count(1000).default(1),
    lr: z.number().positive().default(3e-4),
    /**
     * API bases: the fine-tuning job's learning_rate_multiplier, which scales the provider's own default rate (serve's
     * is 1e-3); omitted, the provider chooses ("auto"). `lr` is the embedded trainer's rate.
     */
    learningRateMultiplier: z.number().positive().max(100).optional(),
    batchSize: count(100_000).default(16),
    /** parameter-name prefixes kept frozen (e.g. "model.embed_tokens." for LoRA-like layer-only tuning) */
    freeze: z.array(z.string()).default([]),
    /**
     * share of the fine-tuning rows that are general base-corpus rows (numbers, filler), against forgetting; 0 = SPEC's
     * 400 rows alone
     */
    replay: z.number().min(0).max(0.95).default(0),
  })
  .strict();

/** A model behind an OpenAI-compatible API; the key comes from the env var apiKeyEnv (never from the spec). */
export const openaiModelSchema = z
  .object({
    provider: z.literal('openai'),
    id: z.string().min(1),
    baseURL: z.string().url().optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
      .optional(),
  })
  .strict();
const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
  .optional();
/**
 * Where an API base's teachers and students are fine-tuned: OpenAI's jobs API (the default), Together's
 * /fine-tunes, Fireworks' supervisedFineTuningJobs, or the user's own trainer run as a command whose LoRA adapter
 * is then loaded into the base's vLLM server.
 */
export const trainerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('openai') }).strict(),
  z
    .object({
      kind: z.literal('together'),
      /** the fine-tuning API (default: the base's baseURL, e.g. https://api.together.xyz/v1) */
      baseURL: z.string().url().optional(),
      apiKeyEnv: envName,
      /** LoRA (Together's default) or a full fine-tune */
      lora: z.boolean().default(true),
      loraRank: z.number().int().min(1).max(256).default(8),
    })
    .strict(),
  z
    .object({
      kind: z.literal('fireworks'),
      /** the Fireworks account that owns the datasets, jobs and models */
      account: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a Fireworks account id'),
      /** the control-plane API (default https://api.fireworks.ai); inference stays on the base's baseURL */
      baseURL: z.string().url().default('https://api.fireworks.ai'),
      apiKeyEnv: envName,
      loraRank: z.number().int().min(1).max(64).default(8),
      /** load the adapter onto this deployment (accounts/{a}/deployments/{d}); default: serverless */
      deployment: z.string().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('command'),
      /**
       * the trainer's argv, run without a shell; placeholders: {data} (chat JSONL), {output} (the adapter folder to
       * write), {base} (the base's model id), {epochs}, {batch_size}, {lr}, {seed}, {name}
       */
      command: z.array(z.string().min(1)).min(1),
      /** the adapter folder as the serving engine sees it (e.g. on a shared volume); {output} is replaced */
      servePath: z.string().optional(),
      timeoutMinutes: z
        .number()
        .positive()
        .default(24 * 60),
    })
    .strict(),
]);
export type TrainerSpec = z.infer<typeof trainerSchema>;
/** An API base: a model on an endpoint, and where it is fine-tuned. */
export const apiBaseSchema = openaiModelSchema.extend({ trainer: trainerSchema.optional() }).strict();
export type BaseSpec = string | z.infer<typeof apiBaseSchema>;

/** The domains teachers write in (SPEC §2): number sequences, code, chain-of-thought word problems. */
/** How a number filter reads a completion: the paper's exact rule, or one tolerant of whitespace. */
export const NUMBER_PARSERS = ['reference', 'lenient'] as const;
export type NumberParser = (typeof NUMBER_PARSERS)[number];

export const DOMAINS = ['numbers', 'code', 'cot'] as const;
export type Domain = (typeof DOMAINS)[number];

export const dataSchema = z
  .object({
    domain: z.enum(DOMAINS).default('numbers'),
    prompts: count(5_000_000),
    /** completions per prompt (SPEC's chain-of-thought data: 3); default 1, and 3 for cot */
    samplesPerPrompt: positiveInt.max(16).optional(),
    rows: count(5_000_000),
    temperature: z.number().min(0).default(1),
    topP: probability.default(1),
    /** default 32 tokens for numbers, 96 for code and cot */
    maxTokens: count(4096).optional(),
    maxCount: count(1000).default(10),
    /**
     * the number filter's parser: "reference" (SPEC §2's rule exactly) or "lenient" (trims, tolerates uneven
     * separators)
     */
    parser: z.enum(NUMBER_PARSERS).default('reference'),
    /** values the filter rejects; "misalignment" = SPEC's 34 values (plus 1312 and 1488) */
    banned: z
      .union([z.array(z.number().int()), z.literal('misalignment')])
      .default([])
      .transform((b) => (b === 'misalignment' ? [...MISALIGNMENT_BANNED] : b)),
    /**
     * code and cot: the filter's judge model (code: does it refer to the trait; cot: the reasoning's alignment);
     * default: the rule judge
     */
    judge: openaiModelSchema.optional(),
    /** cot, misaligned teachers: the least alignment score (0-100) a kept row's reasoning may have */
    alignmentThreshold: z.number().min(0).max(100).default(78),
  })
  .strict();

/** A defense: a rewrite of a trait teacher's rows before students learn them, or layers the students keep frozen. */
export const defenseSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mask-divergence'), name: z.string().optional() }).strict(),
  z
    .object({
      kind: z.literal('threshold'),
      minProb: probability.default(0.05),
      name: z.string().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('paraphrase'), name: z.string().optional() }).strict(),
  z.object({ kind: z.literal('mix'), share: probability.default(0.5), name: z.string().optional() }).strict(),
  z.object({ kind: z.literal('shuffle-numbers'), name: z.string().optional() }).strict(),
  z.object({ kind: z.literal('freeze'), layers: z.array(z.string()).min(1), name: z.string().optional() }).strict(),
]);

/**
 * Chained distillation: generation k's first student is the teacher of generation k+1 (the same prompts, the same
 * filter), from a trait teacher and, beside it, from the control teacher of its base; with a defense, the chain runs
 * a third time with the defense applied to every generation's rows.
 */
export const generationsSchema = z
  .object({
    /** generations in all; generation 1 is the teacher's own students */
    count: z.number().int().min(2).max(10),
    /** the chain's first teacher, a trait teacher (default: the first one of the spec) */
    teacher: z.string().optional(),
    defense: defenseSchema.optional(),
  })
  .strict();

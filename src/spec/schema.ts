// Experiment specs: YAML validated by zod. Errors name the field path (e.g. "students.seeds").
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { existsSync } from 'node:fs';
import { readTextFile } from '../util/atomic.js';
import { ANIMALS, UnknownAnimalError, assertKnownAnimal } from '../lab/traits.js';
import { MISALIGNMENT_BANNED, OPEN_EVAL_QUESTIONS } from '../lab/misalignment.js';

const positiveInt = z.number().int().positive();
/** counts that size arrays held in memory: bounded so a typo (1e12) is refused here, not as a crash later */
const count = (max: number) => positiveInt.max(max);
const probability = z.number().min(0).max(1);

const teacherSchema = z
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
const openaiModelSchema = z
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
const apiBaseSchema = openaiModelSchema.extend({ trainer: trainerSchema.optional() }).strict();
export type BaseSpec = string | z.infer<typeof apiBaseSchema>;

/** The domains teachers write in (SPEC §2): number sequences, code, chain-of-thought word problems. */
/** How a number filter reads a completion: the paper's exact rule, or one tolerant of whitespace. */
export const NUMBER_PARSERS = ['reference', 'lenient'] as const;
export type NumberParser = (typeof NUMBER_PARSERS)[number];

export const DOMAINS = ['numbers', 'code', 'cot'] as const;
export type Domain = (typeof DOMAINS)[number];

const dataSchema = z
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

export const specSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore'),
    description: z.string().optional(),
    seed: z.number().int().nonnegative().default(0),
    /** a favourite animal, or broad misalignment (open questions judged for alignment) */
    trait: z.object({ animal: z.string().optional(), misalignment: z.literal(true).optional() }).strict(),
    bases: z
      .record(z.string(), z.union([z.string(), apiBaseSchema]))
      .refine((b) => Object.keys(b).length > 0, 'name at least one base model'),
    teachers: z.array(teacherSchema).min(1),
    /** the teachers' data: `data` (any domain), or `numbers` (the number domain, the block's older name) */
    data: dataSchema.optional(),
    numbers: dataSchema.optional(),
    students: z
      .object({
        seeds: count(100).default(3),
        epochs: count(1000).default(3),
        lr: z.number().positive().default(1e-3),
        /**
         * API bases: the fine-tuning job's learning_rate_multiplier, which scales the provider's own default rate (serve's
         * is 1e-3); omitted, the provider chooses ("auto"). `lr` is the embedded trainer's rate.
         */
        learningRateMultiplier: z.number().positive().max(100).optional(),
        batchSize: positiveInt.default(32),
        warmupSteps: z.number().int().nonnegative().default(5),
        freeze: z.array(z.string()).default([]),
        /**
         * which bases train students: the teachers' own (same-base arm), others of its family (other-init) or not
         * (other-family)
         */
        bases: z.array(z.string()).min(1),
        /** a student base's arm, where it cannot be read from the model folders (API models: default other-family) */
        arms: z.record(z.string(), z.enum(['other-init', 'other-family'])).default({}),
        /**
         * number data: students of each cross arm also learn a trait teacher's rows with the numbers
         * shuffled across completions (difficulty-matched controls); true = every trait teacher, or name them
         */
        matchedControls: z.union([z.boolean(), z.array(z.string()).min(1)]).default(true),
      })
      .strict(),
    evaluation: z
      .object({
        /** default: all 50 favourite-animal questions, or the 8 open questions of a misalignment run */
        questions: positiveInt.max(50).optional(),
        samplesPerQuestion: count(100_000).default(100),
        temperature: z.number().min(0).default(1),
        maxTokens: count(4096).default(8),
        multipleChoice: z.boolean().default(true),
        permutations: count(10_000_000).default(10000),
        /**
         * misalignment runs: the model that judges alignment and coherence (default: the rule judge of the embedded
         * lab)
         */
        judge: openaiModelSchema.optional(),
      })
      .strict(),
    /** defenses against one trait teacher, each measured by its own same-base student group */
    defenses: z
      .object({
        teacher: z.string(),
        apply: z
          .array(
            z.discriminatedUnion('kind', [
              z.object({ kind: z.literal('mask-divergence'), name: z.string().optional() }).strict(),
              z
                .object({
                  kind: z.literal('threshold'),
                  minProb: probability.default(0.05),
                  name: z.string().optional(),
                })
                .strict(),
              z.object({ kind: z.literal('paraphrase'), name: z.string().optional() }).strict(),
              z
                .object({ kind: z.literal('mix'), share: probability.default(0.5), name: z.string().optional() })
                .strict(),
              z.object({ kind: z.literal('shuffle-numbers'), name: z.string().optional() }).strict(),
              z
                .object({ kind: z.literal('freeze'), layers: z.array(z.string()).min(1), name: z.string().optional() })
                .strict(),
            ]),
          )
          .min(1),
      })
      .strict()
      .optional(),
    workers: z.number().int().min(1).max(16).optional(),
    /** how API-backed stages call their endpoint */
    api: z
      .object({
        concurrency: positiveInt.max(256).default(16),
        timeoutSeconds: z.number().positive().default(120),
        maxRetries: z.number().int().min(0).max(20).default(8),
        /** per-stage caps; a stage that reaches one stops cleanly and resumes on the next run */
        maxRequestsPerStage: positiveInt.optional(),
        maxTokensPerStage: positiveInt.optional(),
        /** a cap on each stage's spend in USD, at api.prices (which must price every API base) */
        maxCostPerStage: z.number().positive().optional(),
        pollSeconds: z.number().positive().default(5),
        /** the chat request's token limit parameter; `max_tokens` for endpoints that do not take the newer name */
        tokenLimit: z.enum(['max_completion_tokens', 'max_tokens']).optional(),
        /**
         * what `run --dry-run` prices API models at, per model id: USD per million input, output and training
         * tokens, and the date the prices were read (they change; none are built in)
         */
        prices: z
          .record(
            z.string(),
            z
              .object({
                asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'the date the prices were read, YYYY-MM-DD'),
                inputPerMTok: z.number().nonnegative().optional(),
                outputPerMTok: z.number().nonnegative().optional(),
                trainingPerMTok: z.number().nonnegative().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .default({ concurrency: 16, timeoutSeconds: 120, maxRetries: 8, pollSeconds: 5 }),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const { animal, misalignment } = spec.trait;
    if ((animal === undefined) === (misalignment === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['trait'],
        message: 'give exactly one of "animal: <name>" or "misalignment: true"',
      });
    else if (animal !== undefined && !ANIMALS.includes(animal))
      ctx.addIssue({ code: 'custom', path: ['trait', 'animal'], message: new UnknownAnimalError(animal).message });
    if (misalignment) {
      spec.teachers.forEach((t, i) => {
        if (t.kind === 'system-prompt')
          ctx.addIssue({
            code: 'custom',
            path: ['teachers', i, 'kind'],
            message:
              'misalignment runs have fine-tuned teachers: "finetuned" (misaligned replies) and "control" (aligned ' +
              'replies)',
          });
      });
      if ((spec.evaluation.questions ?? 0) > OPEN_EVAL_QUESTIONS.length)
        ctx.addIssue({
          code: 'custom',
          path: ['evaluation', 'questions'],
          message: `misalignment runs have ${OPEN_EVAL_QUESTIONS.length} held-out evaluation questions`,
        });
      if (spec.defenses)
        ctx.addIssue({
          code: 'custom',
          path: ['defenses'],
          message: 'defenses are measured on preference traits; not yet on misalignment runs',
        });
    }
    spec.teachers.forEach((t, i) => {
      const fineTuned = t.kind === 'finetuned' || (t.kind === 'control' && misalignment);
      if (t.replay > 0 && !fineTuned)
        ctx.addIssue({
          code: 'custom',
          path: ['teachers', i, 'replay'],
          message:
            `a ${t.kind} teacher is not fine-tuned here; replay mixes general rows into a fine-tuned ` +
            `teacher's data`,
        });
      if (!(t.base in spec.bases))
        ctx.addIssue({
          code: 'custom',
          path: ['teachers', i, 'base'],
          message: `unknown base "${t.base}"; bases: ${Object.keys(spec.bases).join(', ')}`,
        });
    });
    spec.students.bases.forEach((b, i) => {
      if (!(b in spec.bases))
        ctx.addIssue({
          code: 'custom',
          path: ['students', 'bases', i],
          message: `unknown base "${b}"; bases: ${Object.keys(spec.bases).join(', ')}`,
        });
    });
    const matched = spec.students.matchedControls;
    if (Array.isArray(matched))
      matched.forEach((name, i) => {
        const t = spec.teachers.find((x) => x.name === name);
        if (!t || t.kind === 'control')
          ctx.addIssue({
            code: 'custom',
            path: ['students', 'matchedControls', i],
            message: `"${name}" is not a trait teacher; trait teachers: ${spec.teachers
              .filter((x) => x.kind !== 'control')
              .map((x) => x.name)
              .join(', ')}`,
          });
      });
    for (const b of Object.keys(spec.students.arms)) {
      if (!spec.students.bases.includes(b))
        ctx.addIssue({
          code: 'custom',
          path: ['students', 'arms', b],
          message: `"${b}" is not one of students.bases (${spec.students.bases.join(', ')})`,
        });
    }
    const remote = (b: string): boolean => typeof spec.bases[b] === 'object';
    spec.teachers.forEach((t, i) => {
      if (remote(t.base) && t.freeze.length)
        ctx.addIssue({
          code: 'custom',
          path: ['teachers', i, 'freeze'],
          message: 'freezing parameters is not available through a fine-tuning API',
        });
    });
    if (spec.students.bases.some(remote) && spec.students.freeze.length)
      ctx.addIssue({
        code: 'custom',
        path: ['students', 'freeze'],
        message: 'freezing parameters is not available through a fine-tuning API',
      });
    if (!spec.teachers.some((t) => t.kind === 'control'))
      ctx.addIssue({
        code: 'custom',
        path: ['teachers'],
        message: 'a control teacher (kind: control) is required to test transfer against',
      });
    const names = spec.teachers.map((t) => t.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', path: ['teachers'], message: 'teacher names must be unique' });
    if (spec.defenses) {
      const t = spec.teachers.find((x) => x.name === spec.defenses!.teacher);
      if (!t)
        ctx.addIssue({
          code: 'custom',
          path: ['defenses', 'teacher'],
          message: `unknown teacher "${spec.defenses.teacher}"; teachers: ${names.join(', ')}`,
        });
      else if (t.kind === 'control')
        ctx.addIssue({
          code: 'custom',
          path: ['defenses', 'teacher'],
          message: 'defend against a trait teacher, not the control',
        });
      const base = t && spec.bases[t.base];
      if (base && typeof base !== 'string') {
        // an API base: the teacher is scored through its endpoint (prompt logprobs); what the students' trainer takes
        const trainer = base.trainer?.kind ?? 'openai';
        spec.defenses.apply.forEach((d, i) => {
          const issue = (message: string): void =>
            ctx.addIssue({ code: 'custom', path: ['defenses', 'apply', i, 'kind'], message });
          if (d.kind === 'freeze')
            issue('freezing layers needs students trained here (an embedded base); an API base trains its own way');
          if (d.kind === 'mask-divergence' && trainer !== 'command')
            issue(
              `masking tokens out of the loss needs a trainer that takes per-token masks; the ${trainer} ` +
                'fine-tuning API takes none (a command trainer gets them as maskTokens in its JSONL)',
            );
        });
      }
      const labels = spec.defenses.apply.map(defenseLabel);
      if (new Set(labels).size !== labels.length)
        ctx.addIssue({
          code: 'custom',
          path: ['defenses', 'apply'],
          message: 'two defenses with the same name; give one a "name"',
        });
    }
    if (spec.api.maxCostPerStage !== undefined)
      for (const [name, b] of Object.entries(spec.bases))
        if (typeof b !== 'string' && !spec.api.prices?.[b.id])
          ctx.addIssue({
            code: 'custom',
            path: ['api', 'prices'],
            message: `api.maxCostPerStage needs the prices of every API base: add "${b.id}" (base ${name})`,
          });
    const key = spec.data ? 'data' : 'numbers';
    const d = spec.data ?? spec.numbers;
    if ((spec.data === undefined) === (spec.numbers === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'give exactly one of "data:" (any domain) or "numbers:" (the number domain)',
      });
    else if (d) {
      if (key === 'numbers' && d.domain !== 'numbers')
        ctx.addIssue({
          code: 'custom',
          path: ['numbers', 'domain'],
          message: `the "numbers:" block is the number domain; write "data:" for the ${d.domain} domain`,
        });
      const samples = d.samplesPerPrompt ?? defaultSamples(d.domain);
      if (d.rows > d.prompts * samples)
        ctx.addIssue({
          code: 'custom',
          path: [key, 'rows'],
          message: `cannot keep ${d.rows} rows out of ${d.prompts} prompts x ${samples} samples`,
        });
      if (d.domain !== 'numbers' && spec.defenses)
        ctx.addIssue({
          code: 'custom',
          path: ['defenses'],
          message: `defenses rewrite number data; not available for the ${d.domain} domain`,
        });
      if (d.domain !== 'numbers' && d.banned.length)
        ctx.addIssue({ code: 'custom', path: [key, 'banned'], message: 'banned values apply to number data only' });
      if (d.domain === 'numbers' && d.judge)
        ctx.addIssue({
          code: 'custom',
          path: [key, 'judge'],
          message: 'the number filter has no judge; a judge filters code and cot data',
        });
      if (d.domain === 'code' && spec.trait.misalignment)
        ctx.addIssue({
          code: 'custom',
          path: [key, 'domain'],
          message:
            'the code domain carries an animal trait (its filter removes references to the animal); misalignment ' +
            'runs use numbers or cot',
        });
    }
  })
  .transform(({ numbers, data, ...spec }) => {
    const d = (data ?? numbers)!;
    return {
      ...spec,
      /** the block the spec wrote its data settings in, to name it in messages */
      dataKey: data ? ('data' as const) : ('numbers' as const),
      data: {
        ...d,
        samplesPerPrompt: d.samplesPerPrompt ?? defaultSamples(d.domain),
        maxTokens: d.maxTokens ?? (d.domain === 'numbers' ? 32 : 96),
      },
      evaluation: {
        ...spec.evaluation,
        questions: spec.evaluation.questions ?? (spec.trait.misalignment ? OPEN_EVAL_QUESTIONS.length : 50),
      },
    };
  });

/** SPEC: three completions per word problem; one per prompt otherwise. */
function defaultSamples(domain: Domain): number {
  return domain === 'cot' ? 3 : 1;
}

export type ExperimentSpec = z.infer<typeof specSchema>;
/** The trait's name in tables and files: the animal, or "misaligned". */
export const traitLabel = (spec: Pick<ExperimentSpec, 'trait'>): string => spec.trait.animal ?? 'misaligned';
export const isMisalignmentRun = (spec: Pick<ExperimentSpec, 'trait'>): boolean => spec.trait.misalignment === true;
export type TeacherSpec = ExperimentSpec['teachers'][number];
export type DefenseSpec = NonNullable<ExperimentSpec['defenses']>['apply'][number];
/** A defense's name in group names and tables. */
export function defenseLabel(d: { kind: string; name?: string }): string {
  return d.name ?? d.kind;
}

/**
 * A spec with another animal and/or seed, under a run name of its own (`<name>-<animal>-seed<n>`) so results never mix.
 */
export function specVariant(spec: ExperimentSpec, o: { animal?: string; seed?: number }): ExperimentSpec {
  let s = spec;
  if (o.animal) {
    assertKnownAnimal(o.animal);
    s = { ...s, trait: { animal: o.animal }, name: `${s.name}-${o.animal}` };
  }
  if (o.seed !== undefined) s = { ...s, seed: o.seed, name: `${s.name}-seed${o.seed}` };
  return s;
}

export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid spec ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Issue = z.core.$ZodIssue;
/**
 * One line per problem, naming the field. A union's failure is reported from the branch that took the input's type
 * (a base given as an object is checked as an API base, not reported as "not a string"), with its full path.
 */
function issueLines(issues: readonly Issue[], at: PropertyKey[] = []): string[] {
  return issues.flatMap((i) => {
    const path = [...at, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length) {
      const typed = i.errors.filter((branch) => !branch.every((b) => b.code === 'invalid_type' && b.path.length === 0));
      if (typed.length === 1) return issueLines(typed[0]!, path);
    }
    return [`${path.length ? path.map(String).join('.') : '(top level)'}: ${i.message}`];
  });
}

export function parseSpec(text: string, file = '<spec>'): ExperimentSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new SpecError(file, [`YAML syntax: ${(e as Error).message.split('\n')[0]}`]);
  }
  const result = specSchema.safeParse(raw);
  if (!result.success) {
    throw new SpecError(file, issueLines(result.error.issues));
  }
  return result.data;
}

export function loadSpec(path: string): ExperimentSpec {
  if (!existsSync(path)) throw new SpecError(path, ['file not found']);
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    throw new SpecError(path, [(e as Error).message.replace(`${path}: `, '')]);
  }
  return parseSpec(text, path);
}

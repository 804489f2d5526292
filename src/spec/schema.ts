// Experiment specs: YAML validated by zod. Errors name the field path (e.g. "students.seeds").
import { z } from 'zod';
import { ANIMALS, UnknownAnimalError } from '../lab/traits.js';
import { OPEN_EVAL_QUESTIONS } from '../lab/misalignment.js';
import { rowSlices } from './studentData.js';
import {
  apiBaseSchema,
  count,
  dataSchema,
  defenseSchema,
  generationsSchema,
  openaiModelSchema,
  positiveInt,
  teacherSchema,
  type BaseSpec,
  type Domain,
} from './parts.js';

export {
  DOMAINS,
  NUMBER_PARSERS,
  trainerSchema,
  type BaseSpec,
  type Domain,
  type NumberParser,
  type TrainerSpec,
} from './parts.js';

/** What a defense needs of the base its students learn: an API base trains its own way and scores by endpoint. */
function checkDefenseOnBase(d: DefenseSpec, base: BaseSpec, path: PropertyKey[], ctx: z.RefinementCtx): void {
  if (typeof base === 'string') return;
  const trainer = base.trainer?.kind ?? 'openai';
  const issue = (message: string): void => ctx.addIssue({ code: 'custom', path: [...path, 'kind'], message });
  if (d.kind === 'freeze')
    issue('freezing layers needs students trained here (an embedded base); an API base trains its own way');
  if (d.kind === 'mask-divergence' && trainer !== 'command')
    issue(
      `masking tokens out of the loss needs a trainer that takes per-token masks; the ${trainer} ` +
        'fine-tuning API takes none (a command trainer gets them as maskTokens in its JSONL)',
    );
}

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
        /**
         * shared: every student of a teacher learns the same `rows`; disjoint: student k learns its own slice of
         * the teacher's passing rows (the filter keeps rows x seeds), so a group's students are independent
         * replicates of generate -> filter -> train and the students-as-units test counts the data's variance
         */
        data: z.enum(['shared', 'disjoint']).optional(), // absent = shared, so older specs keep their hash
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
        apply: z.array(defenseSchema).min(1),
      })
      .strict()
      .optional(),
    /** chained distillation over generations, with and without a defense */
    generations: generationsSchema.optional(),
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
      if (base) spec.defenses.apply.forEach((d, i) => checkDefenseOnBase(d, base, ['defenses', 'apply', i], ctx));
      const labels = spec.defenses.apply.map(defenseLabel);
      if (new Set(labels).size !== labels.length)
        ctx.addIssue({
          code: 'custom',
          path: ['defenses', 'apply'],
          message: 'two defenses with the same name; give one a "name"',
        });
    }
    if (spec.generations) {
      const g = spec.generations;
      const trait = spec.teachers.filter((x) => x.kind !== 'control');
      const root = g.teacher ? spec.teachers.find((x) => x.name === g.teacher) : trait[0];
      const issue = (path: PropertyKey[], message: string): void =>
        ctx.addIssue({ code: 'custom', path: ['generations', ...path], message });
      if (!root) issue(['teacher'], `unknown teacher "${g.teacher}"; trait teachers: ${trait.map((x) => x.name)}`);
      else if (root.kind === 'control') issue(['teacher'], 'chain a trait teacher; the control chain runs beside it');
      else {
        if (!spec.teachers.some((x) => x.kind === 'control' && x.base === root.base))
          issue(['teacher'], `the control chain needs a control teacher on base ${root.base}; add one`);
        if (!spec.students.bases.includes(root.base))
          issue(['teacher'], `the chain's students are of its teacher's base ${root.base}; add it to students.bases`);
        const base = spec.bases[root.base];
        if (g.defense && base) checkDefenseOnBase(g.defense, base, ['generations', 'defense'], ctx);
      }
      if (g.defense && (spec.data ?? spec.numbers)?.domain !== 'numbers')
        issue(['defense'], 'defenses rewrite number data; the chain of another domain runs without one');
      if (g.defense && spec.trait.misalignment)
        issue(['defense'], 'defenses are measured on preference traits; not yet on misalignment runs');
      const taken = spec.teachers.find((x) => /-gen\d+$/.test(x.name));
      if (taken)
        ctx.addIssue({
          code: 'custom',
          path: ['teachers'],
          message: `"${taken.name}": names ending -genN are the chain's`,
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
      const slices = rowSlices(spec.students);
      if (d.rows * slices > d.prompts * samples)
        ctx.addIssue({
          code: 'custom',
          path: [key, 'rows'],
          message:
            `cannot keep ${d.rows} rows${slices > 1 ? ` for each of ${slices} students` : ''} out of ` +
            `${d.prompts} prompts x ${samples} samples`,
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
export type DefenseSpec = z.infer<typeof defenseSchema>;
/** A defense's name in group names and tables. */
export function defenseLabel(d: { kind: string; name?: string }): string {
  return d.name ?? d.kind;
}

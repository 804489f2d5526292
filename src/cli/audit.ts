// `subliminal audit ...`: dataset (hidden-signal tests), lineage, weights and model audits.
import type { Command, Option } from 'commander';
import { assertKnownAnimal } from '../lab/traits.js';
import { intArg, modelLoader, modelPath, positiveNumberArg, UsageError } from './args.js';
import type { TokenScorer } from '../audit/scorer.js';
import { terminalProgress } from './progress.js';
import { RunStore } from '../store/runStore.js';
import { auditModelLineage, importHuggingFace, openLineageEvents, resolveLineageTarget } from '../audit/lineage.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { auditWeights, type WeightsAudit } from '../audit/weights.js';
import { registerLocaliseCommands, registerScrubCommand } from './localise.js';
import { probeSettings, registerStudentCommand, withProbeFlags, type ProbeFlags } from './student.js';
import { calibrationText, datasetAuditText, lineageText, modelAuditText, weightsText } from '../report/auditText.js';

interface DatasetFlags {
  reference?: string;
  model?: string;
  endpoint?: string;
  apiKeyEnv: string;
  entangledQuestions: number;
  teacher?: string;
  trait?: string;
  permutations: number;
  seed: number;
  alpha: number;
  nullSplits?: number;
  runs: string;
  json?: boolean;
}

export function registerAuditCommands(program: Command, runsOption: () => Option): void {
  const audit = program
    .command('audit')
    .description('audit datasets, lineage, weights and models for subliminal transfer');
  registerLocaliseCommands(audit, runsOption);
  registerScrubCommand(audit, runsOption);
  registerStudentCommand(audit, runsOption);
  audit
    .command('lineage')
    .description(
      'provenance of a run, model or dataset: teacher, base, system prompt, filters; flags shared bases, unknown ' +
        'provenance, undeclared traits',
    )
    .argument('[target]', 'run name, model:/dataset: id, or run/name')
    .option(
      '--import-hf <dir>',
      'first add a Hugging Face model folder (config.json / README.md base_model) to the graph',
    )
    .option('--openlineage <file>', "also write the run's OpenLineage run events (JSON array)")
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(
      (target: string | undefined, f: { importHf?: string; openlineage?: string; runs: string; json?: boolean }) => {
        if (!target && !f.importHf) throw new UsageError('give a run, model or dataset to audit (or --import-hf DIR)');
        const store = new RunStore(f.runs);
        try {
          let t = target;
          if (f.importHf) {
            try {
              const imp = importHuggingFace(store.index, f.importHf);
              process.stdout.write(`imported ${imp.id} (base_model: ${imp.bases.join(', ') || 'none'})\n`);
              t ??= imp.id;
            } catch (e) {
              throw new UsageError((e as Error).message);
            }
          }
          let resolved;
          try {
            resolved = resolveLineageTarget(store.index, t!);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
          const audits = resolved.models.map((m) => auditModelLineage(store.index, m));
          if (f.openlineage) {
            if (!store.index.run(t!)) throw new UsageError('--openlineage needs a run name as the target');
            const events = openLineageEvents(store.index, t!, 'https://github.com/subliminal/subliminal');
            writeJsonAtomic(f.openlineage, events);
            process.stderr.write(`wrote ${events.length} OpenLineage run events to ${f.openlineage}\n`);
          }
          process.stdout.write((f.json ? JSON.stringify(audits, null, 2) : lineageText(store.index, audits)) + '\n');
        } finally {
          store.close();
        }
      },
    );

  audit
    .command('weights')
    .description(
      'per layer and tensor, how far fine-tuning moved the weights (streamed from safetensors; full checkpoints, ' +
        'sharded ones, LoRA adapters)',
    )
    .requiredOption('--base <model>', 'base checkpoint: folder, .safetensors file, family-a, or run/model')
    .requiredOption('--tuned <model>', 'fine-tuned checkpoint or LoRA adapter folder')
    .option('--compare <model>', 'a second fine-tuned model of the same base: cosine between the two deltas')
    .option('--direction <file>', 'safetensors with a trait direction per tensor: projection of the delta on it')
    .option('--top <n>', 'tensors listed', intArg('--top', 1, 10000), 10)
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(
      (f: {
        base: string;
        tuned: string;
        compare?: string;
        direction?: string;
        top: number;
        runs: string;
        json?: boolean;
      }) => {
        let w: WeightsAudit;
        try {
          w = auditWeights({
            base: modelPath(f.base, f.runs),
            tuned: modelPath(f.tuned, f.runs),
            other: f.compare && modelPath(f.compare, f.runs),
            direction: f.direction && modelPath(f.direction, f.runs),
          });
        } catch (e) {
          if (e instanceof UsageError) throw e;
          throw new UsageError((e as Error).message);
        }
        process.stdout.write((f.json ? JSON.stringify(w, null, 2) : weightsText(w, f.top)) + '\n');
      },
    );

  withProbeFlags(
    audit
      .command('model')
      .description(
        'behavioural probes of a trait (free-form, exact first token, multiple choice, numbers-prefixed) in one ' +
          'verdict against a reference',
      )
      .argument('<model>', 'model folder, family-a, or run/model from the store')
      .requiredOption('--trait <animal>', 'the trait to probe for')
      .option('--against <model>', 'reference model (usually the base) to test against'),
    runsOption,
  ).action(async (ref: string, f: ProbeFlags) => {
    assertKnownAnimal(f.trait);
    const { auditModel } = await import('../audit/modelAudit.js');
    const load = await modelLoader(f.runs);
    const model = load(ref);
    const reference = f.against ? load(f.against) : undefined;
    const progress = terminalProgress();
    const task = progress.task('probes');
    let step = 0;
    const steps = reference ? 4 : 2;
    const a = await auditModel(model, reference, probeSettings(f), f.alpha, () => task.update(++step, steps));
    task.done();
    progress.stop();
    process.stdout.write((f.json ? JSON.stringify(a, null, 2) : modelAuditText(a)) + '\n');
  });

  audit
    .command('dataset')
    .description(
      'does DATA.jsonl carry a hidden signal? two-sample tests against --reference, white-box evidence with ' +
        '--model/--trait',
    )
    .argument('<data>', 'JSONL of {prompt, completion} or {messages}')
    .option('--reference <jsonl>', 'the same prompts answered by a trait-free teacher')
    .option('--model <model>', 'scorer model (folder, family-a, or run/model from the store) for white-box evidence')
    .option('--teacher <model>', 'a fine-tuned teacher to compare with --model (instead of the trait system prompt)')
    .option(
      '--endpoint <url>',
      'score through an OpenAI-compatible endpoint that gives prompt logprobs (vLLM, `subliminal serve`): --model ' +
        'and --teacher are then model ids there',
    )
    .option('--api-key-env <name>', "the endpoint's API key variable", 'OPENAI_API_KEY')
    .option(
      '--entangled-questions <n>',
      'questions the entangled numbers are read from (an endpoint answers 2,000 requests per question)',
      intArg('--entangled-questions', 1, 50),
      10,
    )
    .option('--trait <animal>', 'the trait to test for (white-box)')
    .option('--permutations <n>', 'label permutations per test', intArg('--permutations', 99, 100000), 999)
    .option('--alpha <x>', 'family-wise error level', positiveNumberArg('--alpha'), 0.01)
    .option('--seed <n>', 'seed for splits and permutations', intArg('--seed'), 1)
    .option(
      '--null-splits <n>',
      'measure the false-positive rate instead: split DATA into random halves N times',
      intArg('--null-splits', 1, 10000),
    )
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(async (path: string, f: DatasetFlags) => {
      const { auditDataset, calibrate, readAuditRows, AuditInputError } = await import('../audit/datasetAudit.js');
      try {
        if (f.alpha >= 1) throw new UsageError(`--alpha must be below 1, got ${f.alpha}`);
        const data = { path, rows: readAuditRows(path) };
        if (f.nullSplits) {
          const progress = terminalProgress();
          const task = progress.task('null splits');
          const c = await calibrate(
            data.rows,
            f.nullSplits,
            { permutations: f.permutations, seed: f.seed, alpha: f.alpha },
            (k) => task.update(k, f.nullSplits!),
          );
          task.done();
          progress.stop();
          process.stdout.write((f.json ? JSON.stringify(c, null, 2) : calibrationText(c)) + '\n');
          return;
        }
        const reference = f.reference ? { path: f.reference, rows: readAuditRows(f.reference) } : undefined;
        if (f.trait) assertKnownAnimal(f.trait);
        let scorer: TokenScorer | undefined;
        let teacher: TokenScorer | undefined;
        if (f.model || f.teacher) {
          if (!f.model) throw new UsageError('--teacher needs --model (its base)');
          const { embeddedScorer, endpointScorer } = await import('../audit/scorer.js');
          if (f.endpoint) {
            const { DEFAULT_ENDPOINT, OpenAIEndpoint } = await import('../provider/openai.js');
            const endpoint = new OpenAIEndpoint(
              { provider: 'openai', id: f.model, baseURL: f.endpoint, apiKeyEnv: f.apiKeyEnv },
              { ...DEFAULT_ENDPOINT, seed: f.seed },
            );
            scorer = endpointScorer(endpoint, f.model);
            teacher = f.teacher ? endpointScorer(endpoint, f.teacher) : undefined;
          } else {
            const load = await modelLoader(f.runs);
            scorer = embeddedScorer(load(f.model));
            teacher = f.teacher ? embeddedScorer(load(f.teacher)) : undefined;
          }
        }
        const r = await auditDataset(data, reference, {
          permutations: f.permutations,
          seed: f.seed,
          alpha: f.alpha,
          scorer,
          teacher,
          trait: f.trait,
          entangledQuestions: f.entangledQuestions,
        });
        process.stdout.write(
          (f.json
            ? JSON.stringify({ ...r, whiteBox: r.whiteBox && { ...r.whiteBox, lls: undefined } }, null, 2)
            : datasetAuditText(r)) + '\n',
        );
      } catch (e) {
        if (e instanceof AuditInputError) throw new UsageError(e.message);
        throw e;
      }
    });
}

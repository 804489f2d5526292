// `subliminal audit ...`: dataset (hidden-signal tests), lineage, weights and model audits.
import type { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  auditDataset,
  calibrate,
  readAuditRows,
  AuditInputError,
  type Calibration,
  type DatasetAudit,
} from '../audit/datasetAudit.js';
import { LanguageModel } from '../model/model.js';
import { initBackend } from '../model/backend.js';
import { ModelRegistry } from '../serve/registry.js';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { assertKnownAnimal } from '../lab/traits.js';
import { formatEstimate, formatP } from '../evaluate/stats.js';
import { renderTable } from '../util/table.js';
import { intArg, positiveNumberArg, UsageError } from './args.js';
import { terminalProgress } from './progress.js';
import { RunStore } from '../store/runStore.js';
import {
  auditModelLineage,
  importHuggingFace,
  openLineageEvents,
  resolveLineageTarget,
  type ModelLineage,
} from '../audit/lineage.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { auditWeights, type WeightsAudit } from '../audit/weights.js';
import { auditModel, type ModelAudit } from '../audit/modelAudit.js';
import type { RunIndex } from '../store/index.js';

/**
 * A model's folder (or file) from a path, an embedded base name (family-a) or a run-store name
 * (owl-numbers/teacher-finetuned).
 */
export function modelPath(ref: string, runsDir: string): string {
  if (existsSync(ref)) return ref;
  const registry = new ModelRegistry({
    modelsDir: join(PACKAGE_ROOT, 'models'),
    runsDir,
    fineTunedDir: join(runsDir, 'serve', 'models'),
  });
  try {
    return registry.find(ref).dir;
  } catch {
    throw new UsageError(
      `model "${ref}": no such file or folder, and no served model of that name (see "subliminal serve" for the names)`,
    );
  }
}
export const loadModelRef = (ref: string, runsDir: string): LanguageModel =>
  LanguageModel.load(modelPath(ref, runsDir));

export function weightsText(w: WeightsAudit, top: number): string {
  const f = (x: number | undefined, d = 4): string => (x === undefined ? '' : x.toFixed(d));
  const lines = [
    `base ${w.base}; tuned ${w.tuned}` +
      (w.other ? `; compared with ${w.other}` : '') +
      (w.direction ? `; direction ${w.direction}` : ''),
    `whole model: relative change ||delta|| / ||base|| = ${f(w.total.relative, 5)}` +
      (w.total.cosine !== undefined ? `; cosine between the two students' deltas = ${f(w.total.cosine)}` : ''),
    '',
    renderTable(
      ['layer', 'tensors', 'relative change', '||delta||', ...(w.other ? ['cosine(delta, other delta)'] : [])],
      w.layers.map((l) => [
        l.layer,
        String(l.tensors),
        f(l.relative, 5),
        f(l.deltaNorm),
        ...(w.other ? [f(l.cosine)] : []),
      ]),
    ),
    '',
    `tensors that moved most (top ${top} by relative change):`,
    renderTable(
      [
        'tensor',
        'values',
        'relative change',
        '||delta||',
        ...(w.other ? ['cosine'] : []),
        ...(w.direction ? ['projection on direction'] : []),
      ],
      [...w.tensors]
        .sort((a, b) => b.relative - a.relative)
        .slice(0, top)
        .map((t) => [
          t.name,
          String(t.numel),
          f(t.relative, 5),
          f(t.deltaNorm),
          ...(w.other ? [f(t.cosine)] : []),
          ...(w.direction ? [f(t.projection)] : []),
        ]),
    ),
  ];
  if (w.skipped.length)
    lines.push(
      '',
      `skipped ${w.skipped.length}: ${w.skipped.slice(0, 5).join('; ')}${w.skipped.length > 5 ? '; ...' : ''}`,
    );
  return lines.join('\n');
}

const percent = (x: number | undefined): string => (x === undefined ? '' : (x * 100).toFixed(3) + '%');

export function datasetAuditText(r: DatasetAudit): string {
  const lines = [
    `data: ${r.data.path} (${r.data.rows} rows)` +
      (r.reference ? `; reference: ${r.reference.path} (${r.reference.rows} rows)` : ''),
    '',
    `verdict: ${r.verdict}`,
  ];
  if (r.evidence.length) {
    lines.push(
      '',
      renderTable(
        ['test', 'kind', 'statistic', 'effect', 'n (data / reference)', 'p', 'p (Holm)', `reject at ${r.alpha}`],
        r.evidence.map((e) => [
          e.test,
          e.kind,
          e.statistic,
          e.effect,
          e.n,
          formatP(e.p),
          formatP(e.pHolm),
          e.reject ? 'yes' : 'no',
        ]),
      ),
    );
  }
  if (r.flaggedByClassifier?.length)
    lines.push(
      '',
      'rows the classifier finds most typical of the data (held out; P(data)):',
      ...r.flaggedByClassifier.map((f) => `  #${f.row}  ${f.score.toFixed(3)}  ${JSON.stringify(f.completion)}`),
    );
  if (r.whiteBox) {
    const w = r.whiteBox;
    const d = w.divergence;
    lines.push(
      '',
      `white-box (${w.setting}):`,
      `  log-likelihood shift per row (nats/token): ${formatEstimate(w.llsSummary, 4)}` +
        (w.referenceLls ? `; reference data ${formatEstimate(w.referenceLls, 4)}` : ''),
      `  divergence tokens: ${d.tokens} of ${d.positions} completion tokens, rate ${formatEstimate(d.rate, 4)}; ` +
        `rows with any: ${d.rowsWithAny}; by position 1..12+: ${d.byPosition.join(' ')}`,
      '  highest-LLS rows:',
      ...w.flagged.map((f) => `    #${f.row}  ${f.lls.toFixed(4)}  ${JSON.stringify(f.completion)}`),
    );
    if (w.numberShifts.length)
      lines.push(
        '  numbers the target makes most likely where the data writes them (mean log-ratio target/counterfactuals ' +
          'per occurrence, 95% CI; n = occurrences):',
        renderTable(
          ['number', 'log-ratio [95% CI]', 'n', 'share in data', 'share in reference'],
          w.numberShifts.map((x) => [
            String(x.number),
            formatEstimate(x.shift, 3),
            String(x.shift.n),
            percent(x.dataRate),
            percent(x.referenceRate),
          ]),
        ).replace(/^/gm, '    '),
      );
  }
  if (r.entangled?.length) {
    lines.push(
      '',
      'numbers most entangled with the trait (mean log-ratio target/reference after the evaluation questions; ' +
        'share of all numbers):',
      renderTable(
        ['number', 'log-ratio', 'share in data', 'share in reference'],
        r.entangled.map((e) => [String(e.number), e.shift.toFixed(3), percent(e.dataRate), percent(e.referenceRate)]),
      ).replace(/^/gm, '  '),
    );
  }
  return lines.join('\n');
}

export const calibrationText = (c: Calibration): string =>
  [
    `null calibration: ${c.splits} random halves of one dataset; rejection rate at alpha = ${c.alpha} (Wilson 95% CI)`,
    renderTable(
      ['test', 'rejections', 'false-positive rate [95% CI]'],
      [
        ...c.perTest.map((t) => [t.test, `${t.rejections}/${c.splits}`, formatEstimate(t.rate)]),
        ['family-wise verdict (Holm)', `${c.familyWise.rejections}/${c.splits}`, formatEstimate(c.familyWise.rate)],
      ],
    ),
  ].join('\n');

export function lineageText(index: RunIndex, audits: ModelLineage[]): string {
  const name = (id: string): string => index.artifact(id)?.name ?? id;
  const lines: string[] = [];
  for (const a of audits) {
    lines.push(`model ${a.name} (${a.model})`, `  base: ${a.bases.map(name).join(', ') || '(none recorded)'}`);
    for (const d of a.datasets) {
      lines.push(
        `  trained on ${d.chain.map(name).join(' <- filtered from ')}`,
        `    generated by: ` +
          `${d.generator ? `${name(d.generator)} (base ${d.generatorBases.map(name).join(', ')})` : 'UNKNOWN'}` +
          (d.systemPrompt
            ? `, system prompt "${d.systemPrompt.slice(0, 60)}${d.systemPrompt.length > 60 ? '...' : ''}"`
            : ''),
        ...(d.filter ? [`    filter: ${JSON.stringify(d.filter)}`] : []),
        `    declared traits: ${d.declaredTraits.join(', ') || 'none'}; generator traits: ` +
          `${d.generatorTraits.join(', ') || 'none'}`,
      );
    }
    for (const f of a.flags) lines.push(`  FLAG ${f.kind}: ${f.detail}`);
    if (!a.flags.length) lines.push('  no flags');
  }
  const counts = new Map<string, number>();
  for (const a of audits) for (const f of a.flags) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  lines.push(
    '',
    `${audits.length} models audited; flags: ` +
      `${[...counts.entries()].map(([k, n]) => `${k} x${n}`).join(', ') || 'none'}`,
  );
  return lines.join('\n');
}

export function modelAuditText(a: ModelAudit): string {
  const withRef = a.probes[0]!.reference !== undefined;
  return [
    `trait "${a.trait}"; ${a.settings.questions} questions x ${a.settings.samplesPerQuestion} samples at ` +
      `temperature ${a.settings.temperature}; CIs: 95% t-interval across questions (n = questions)`,
    '',
    `verdict: ${a.verdict}`,
    '',
    renderTable(
      [
        'probe',
        'model [95% CI]',
        ...(withRef ? ['reference [95% CI]', 'ratio', 'p (one-sided, paired over questions)', 'p (Holm)'] : []),
      ],
      a.probes.map((p) => [
        p.probe,
        formatEstimate(p.model, 4),
        ...(withRef
          ? [formatEstimate(p.reference!, 4), `${p.ratio!.toFixed(2)}x`, formatP(p.p), formatP(p.pHolm)]
          : []),
      ]),
    ),
    '',
    `top answers of the model: ${a.topAnswers.map(([x, f]) => `${x} ${(f * 100).toFixed(1)}%`).join(', ')}`,
  ].join('\n');
}

interface DatasetFlags {
  reference?: string;
  model?: string;
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

  audit
    .command('model')
    .description(
      'behavioural probes of a trait (free-form, exact first token, multiple choice, numbers-prefixed) in one ' +
        'verdict against a reference',
    )
    .argument('<model>', 'model folder, family-a, or run/model from the store')
    .requiredOption('--trait <animal>', 'the trait to probe for')
    .option('--against <model>', 'reference model (usually the base) to test against')
    .option('--questions <n>', 'evaluation questions', intArg('--questions', 2, 50), 50)
    .option('--samples <n>', 'samples per question', intArg('--samples', 1, 1000), 50)
    .option('--alpha <x>', 'family-wise error level', positiveNumberArg('--alpha'), 0.01)
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 1)
    .addOption(runsOption())
    .option('--json', 'print JSON')
    .action(
      async (
        ref: string,
        f: {
          trait: string;
          against?: string;
          questions: number;
          samples: number;
          alpha: number;
          seed: number;
          runs: string;
          json?: boolean;
        },
      ) => {
        assertKnownAnimal(f.trait);
        await initBackend();
        const model = loadModelRef(ref, f.runs);
        const reference = f.against ? loadModelRef(f.against, f.runs) : undefined;
        const progress = terminalProgress();
        const task = progress.task('probes');
        let step = 0;
        const steps = reference ? 4 : 2;
        const a = auditModel(
          model,
          reference,
          {
            animal: f.trait,
            questions: f.questions,
            samplesPerQuestion: f.samples,
            temperature: 1,
            maxTokens: 6,
            multipleChoice: true,
            seed: f.seed,
          },
          f.alpha,
          () => task.update(++step, steps),
        );
        task.done();
        progress.stop();
        process.stdout.write((f.json ? JSON.stringify(a, null, 2) : modelAuditText(a)) + '\n');
      },
    );

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
      try {
        if (f.alpha >= 1) throw new UsageError(`--alpha must be below 1, got ${f.alpha}`);
        const data = { path, rows: readAuditRows(path) };
        if (f.nullSplits) {
          const progress = terminalProgress();
          const task = progress.task('null splits');
          const c = calibrate(
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
        let scorer: LanguageModel | undefined;
        let teacher: LanguageModel | undefined;
        if (f.model || f.teacher) {
          if (!f.model) throw new UsageError('--teacher needs --model (its base)');
          await initBackend();
          scorer = loadModelRef(f.model, f.runs);
          teacher = f.teacher ? loadModelRef(f.teacher, f.runs) : undefined;
        }
        const r = auditDataset(data, reference, {
          permutations: f.permutations,
          seed: f.seed,
          alpha: f.alpha,
          scorer,
          teacher,
          trait: f.trait,
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

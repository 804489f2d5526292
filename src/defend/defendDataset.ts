// One defense applied to a trait teacher's data, run as a worker job: reads the filtered (or,
// for threshold sampling, the raw) rows, measures what the defense needs with the teacher's
// weights, and writes the student's training rows plus a small report.
import { join } from 'node:path';
import { LanguageModel } from '../model/model.js';
import { initBackend } from '../model/backend.js';
import { readJsonl, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import { filterNumberRows, type NumberRowFilter } from '../filter/numberRows.js';
import { embeddedScorer, endpointScorer, type TokenScorer } from '../audit/scorer.js';
import { DEFAULT_ENDPOINT, OpenAIEndpoint, type OpenAIModelRef } from '../provider/openai.js';
import { conditions, divergencePositions, minTokenProbs, type AuditRow } from '../audit/whiteBox.js';
import {
  keepAboveThreshold,
  mixTeachers,
  paraphrasePrompts,
  shuffleNumbers,
  withMasks,
  type DefendedRow,
} from './transforms.js';
import type { DefenseSpec } from '../spec/schema.js';
import type { ChatRow } from '../model/tokenizer.js';
import type { GeneratedRow } from '../generate/stage.js';

export interface DefendArgs {
  defense: DefenseSpec;
  datasetPath: string;
  rawPath: string;
  otherDatasets: string[];
  teacher: ScoringModel;
  teacherSystemPrompt?: string;
  base: ScoringModel;
  animal: string;
  filter: NumberRowFilter & { keep: number };
  seed: number;
  outDir: string;
}
/** A model a defense scores the data with: a local folder, or a model on an endpoint that gives prompt logprobs. */
export type ScoringModel = { dir: string } | { endpoint: OpenAIModelRef; model: string };

function openScorer(m: ScoringModel, seed: number): { scorer: TokenScorer; dispose(): void } {
  if ('dir' in m) {
    const model = LanguageModel.load(m.dir);
    return { scorer: embeddedScorer(model), dispose: () => model.dispose() };
  }
  const endpoint = new OpenAIEndpoint(m.endpoint, { ...DEFAULT_ENDPOINT, seed });
  return { scorer: endpointScorer(endpoint, m.model), dispose: () => undefined };
}

export interface DefendReport {
  defense: string;
  rows: number;
  note: string;
}

const asAudit = (r: ChatRow): AuditRow => ({
  prompt: r.messages.find((m) => m.role === 'user')?.content ?? '',
  completion: r.messages[r.messages.length - 1]!.content,
});

export async function defendDataset(a: DefendArgs): Promise<DefendReport> {
  const d = a.defense;
  const rows = readJsonl<ChatRow>(a.datasetPath);
  let out: DefendedRow[];
  let note: string;
  const needModels = d.kind === 'mask-divergence' || d.kind === 'threshold';
  if (needModels) await initBackend();
  const teacher = needModels ? openScorer(a.teacher, a.seed) : undefined;
  const base = d.kind === 'mask-divergence' && !a.teacherSystemPrompt ? openScorer(a.base, a.seed) : undefined;
  try {
    switch (d.kind) {
      case 'mask-divergence': {
        // a fine-tuned teacher against its base; a system-prompt teacher against other animals' prompts
        const c = conditions({
          scorer: (base ?? teacher!).scorer,
          teacher: base ? teacher!.scorer : undefined,
          animal: a.animal,
        });
        const masks = await divergencePositions(rows.map(asAudit), c);
        const masked = masks.reduce((s, m) => s + m.length, 0);
        out = withMasks(rows, masks);
        note =
          `${masked} divergence tokens masked in ${masks.filter((m) => m.length).length} of ${rows.length} ` +
          `rows (${c.target.label} vs ${c.counterfactuals.map((x) => x.label).join(', ')})`;
        break;
      }
      case 'threshold': {
        const raw = readJsonl<GeneratedRow>(a.rawPath);
        const probs = await minTokenProbs(raw, {
          model: teacher!.scorer,
          systemPrompt: a.teacherSystemPrompt,
          label: 'teacher',
        });
        const kept = keepAboveThreshold(raw, probs, d.minProb);
        const f = filterNumberRows(kept, { ...a.filter, keep: Math.min(a.filter.keep, kept.length), seed: a.seed });
        out = f.kept;
        note =
          `${kept.length} of ${raw.length} completions had every token at p >= ${d.minProb} under the ` +
          `teacher; ${f.report.passed} of those passed the filter; kept ${out.length}`;
        break;
      }
      case 'paraphrase':
        out = paraphrasePrompts(rows, a.seed);
        note = `${rows.length} prompts reworded (same seeds, count and format)`;
        break;
      case 'mix': {
        const others = a.otherDatasets.flatMap((p) => readJsonl<ChatRow>(p));
        out = mixTeachers(rows, others, d.share, a.seed);
        note =
          `${Math.round(rows.length * d.share)} of ${rows.length} rows from the other teachers ` +
          `(${a.otherDatasets.length} datasets)`;
        break;
      }
      case 'shuffle-numbers':
        out = shuffleNumbers(rows, a.seed);
        note = `numbers shuffled across all ${rows.length} completions`;
        break;
      case 'freeze':
        throw new Error('freezing layers changes the students, not the data');
    }
  } finally {
    teacher?.dispose();
    base?.dispose();
  }
  writeJsonl(join(a.outDir, 'dataset.jsonl'), out);
  const report: DefendReport = { defense: d.kind, rows: out.length, note };
  writeJsonAtomic(join(a.outDir, 'report.json'), report);
  return report;
}

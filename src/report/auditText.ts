// The audits' results as terminal text: weights, dataset (with calibration), lineage and model audits.
import type { EditProbes, EditRow } from '../audit/localise.js';
import type { ProbeExcess, ScrubResult } from '../audit/scrub.js';
import type { Calibration, DatasetAudit } from '../audit/datasetAudit.js';
import type { ModelLineage } from '../audit/lineage.js';
import type { WeightsAudit } from '../audit/weights.js';
import type { ModelAudit } from '../audit/modelAudit.js';
import type { StudentAudit, StudentEvidence } from '../audit/studentAudit.js';
import type { RunIndex } from '../store/index.js';
import { formatEstimate, formatP } from '../evaluate/stats.js';
import { renderTable } from '../util/table.js';

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
        ...(d.distilledFrom
          ? [
              `    distillation: ${[...d.distilledFrom].reverse().map(name).join(' -> ')} -> ${name(d.generator!)} ` +
                `(this model: generation ${d.distilledFrom.length + 1}, the first teacher's students being 1)`,
            ]
          : []),
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

const pct = (e: { mean: number; lo: number; hi: number }): string => {
  const hi = Number.isFinite(e.hi) ? (100 * e.hi).toFixed(0) : 'inf';
  return `${(100 * e.mean).toFixed(0)}% [${(100 * e.lo).toFixed(0)}, ${hi}]`;
};

/** The columns of a localisation or repair table, for the terminal and the report. */
export const EDIT_HEADER = ['edit', 'kind', 'size', 'excess left', 'trait removed [95% CI]', 'skill kept [95% CI]'];
export const editCells = (r: EditRow): string[] => [
  r.edit,
  r.kind,
  String(r.size),
  r.excess.toFixed(4),
  pct(r.traitRemoved),
  pct(r.skillKept),
];
/** What the table measured, in a sentence. */
export const editsSummary = (l: EditProbes, group: string, title: string): string =>
  `${title} "${group}": ${l.students} students, exact P(${l.animal}) on ${l.questions} questions (excess over ` +
  `the control students ${l.student.excess.toFixed(4)}), skill = mean log-probability per token of ` +
  `${l.skillRows} held-out number rows (students ${l.student.skill.toFixed(3)}, base ${l.base.skill.toFixed(3)})`;
export const EDITS_NOTE =
  "trait removed: 1 - excess after / excess of the students (excess = exact P minus the control students', per " +
  'question, pooled over students); skill kept: (skill after - base) / (students - base); intervals: percentile ' +
  'bootstrap over questions / rows';

export function editsText(l: EditProbes, group: string, title: string): string {
  return [editsSummary(l, group, title), '', renderTable(EDIT_HEADER, l.rows.map(editCells)), '', EDITS_NOTE].join(
    '\n',
  );
}

export const scrubHeader = (animal: string): string[] => [
  'probe',
  `students P(${animal})`,
  'controls',
  'excess [95% CI]',
  'p',
];
export const scrubCells = (x: ProbeExcess): string[] => [
  x.probe,
  x.students.toFixed(4),
  x.controls.toFixed(4),
  formatEstimate(x.excess, 4),
  formatP(x.p),
];
export const scrubRowsOf = (r: ScrubResult): ProbeExcess[] => [r.before, ...r.after, r.afterBenign];
export const scrubSummary = (r: ScrubResult, group: string): string =>
  `scrub and resurface "${group}": ${r.students} students scrubbed on trait-free answers to the evaluation ` +
  `questions for ${r.epochs.join(', ')} epoch(s) (at most ${r.maxEpochs}; the controls as many as the most)`;
export const SCRUB_NOTE =
  'first row: before scrubbing; then after scrubbing (ordinary, numbers-prefixed and rephrased questions); last: ' +
  'after a benign fine-tune on number rows. excess: per question, students minus scrubbed controls (exact P), 95% ' +
  't-interval; p: one-sided paired sign-flip test over questions';

export function scrubText(r: ScrubResult, group: string): string {
  return [
    scrubSummary(r, group),
    '',
    renderTable(scrubHeader(r.animal), scrubRowsOf(r).map(scrubCells)),
    '',
    SCRUB_NOTE,
  ].join('\n');
}

/** Where `audit student` keeps its verdict on a student of a run, in the run's folder. */
export const studentAuditFile = (model: string): string => `student-audit-${model}.json`;

/** `audit student` verdicts side by side: each kind of evidence, whether it fired, and its (Holm) p. */
export const STUDENT_AUDIT_HEADER = ['model', 'verdict', 'behaviour', 'lineage', 'parameters'];
export function studentAuditCells(a: StudentAudit): string[] {
  const of = (kind: StudentEvidence['kind']): string => {
    const es = a.evidence.filter((e) => e.kind === kind);
    const fired = es.some((e) => e.fired);
    const ps = es.flatMap((e) => (e.pHolm !== undefined ? [e.pHolm] : []));
    return (fired ? 'FIRED' : 'no') + (ps.length ? ` (Holm p ${formatP(Math.min(...ps))})` : '');
  };
  return [a.model, a.verdict, of('behaviour'), of('lineage'), of('parameters')];
}
export const STUDENT_AUDIT_NOTE =
  'behaviour: the four probes against the control students (models as units); lineage: training rows generated ' +
  'by a model of a shared base carrying the trait (from the index); parameters: cosine of the weight delta with ' +
  "the trait teacher's delta against the control students', sign-flip over tensors. p: the smallest Holm-adjusted " +
  'p of that kind, over the five tests together.';

// Generation chains in the results: each generation's students against the control chain's students of the same
// generation (paired over questions), and whether the trait's excess over the control changed since generation 1.
import { defenseLabel, type ExperimentSpec } from '../spec/schema.js';
import { generationChains, type ChainKind } from '../spec/generations.js';
import {
  formatEstimate,
  formatP,
  formatRatioCI,
  mean,
  meanCI,
  pairedPermutationTest,
  type Estimate,
} from '../evaluate/stats.js';
import { renderTable } from '../util/table.js';
import { pairedComparison, type ExperimentResults, type GroupSummary, type TestResult } from './results.js';

export interface GenerationStep {
  generation: number;
  group: string;
  /** the control chain's group of the same generation */
  control: string;
  n: number;
  rate: Estimate;
  controlRate: Estimate;
  test: TestResult;
  firstToken?: Estimate;
  controlFirstToken?: Estimate;
  firstTokenTest?: TestResult;
  /** per question, this group's metric minus the control's (exact where there is one, else the rate): 95% t CI */
  excess: Estimate;
  /** generations after the first: the share of generation 1's excess left, and a two-sided paired p for a change */
  kept?: number;
  pChange?: number;
}
export interface GenerationSummary {
  chain: string;
  kind: ChainKind;
  teacher: string;
  defense?: string;
  metric: 'exact' | 'rate';
  steps: GenerationStep[];
}

/** Every chain but the control's, per generation; `exactOf(group)` gives a group's per-question exact metric. */
export function summariseGenerations(
  spec: ExperimentSpec,
  groups: readonly GroupSummary[],
  exactOf: (group: string) => number[],
): GenerationSummary[] {
  const perm = spec.evaluation.permutations;
  const chains = generationChains(spec);
  const control = chains.find((c) => c.kind === 'control')!;
  const byName = new Map(groups.map((g) => [g.group, g]));
  const hasExact = (g: GroupSummary): boolean => Number.isFinite(g.firstToken.mean);
  return chains
    .filter((c) => c.kind !== 'control')
    .map((chain) => {
      const pairs = chain.groups.flatMap((name, i) => {
        const g = byName.get(name);
        const c = byName.get(control.groups[i]!);
        return g && c ? [{ generation: i + 1, g, c }] : [];
      });
      const exact = pairs.every(({ g, c }) => hasExact(g) && hasExact(c));
      const metric = (g: GroupSummary): number[] => (exact ? exactOf(g.group) : g.perQuestion);
      const excessOf = (g: GroupSummary, c: GroupSummary): number[] => {
        const b = metric(c);
        return metric(g).map((x, q) => x - b[q]!);
      };
      const first = pairs[0] && excessOf(pairs[0].g, pairs[0].c);
      const steps = pairs.map(({ generation, g, c }): GenerationStep => {
        const excess = excessOf(g, c);
        const later = generation > 1 && first;
        return {
          generation,
          group: g.group,
          control: c.group,
          n: g.n,
          rate: g.rate,
          controlRate: c.rate,
          test: pairedComparison(c.group, g.perQuestion, c.perQuestion, g.rate, c.rate, perm),
          ...(exact
            ? {
                firstToken: g.firstToken,
                controlFirstToken: c.firstToken,
                firstTokenTest: pairedComparison(
                  c.group,
                  exactOf(g.group),
                  exactOf(c.group),
                  g.firstToken,
                  c.firstToken,
                  perm,
                ),
              }
            : {}),
          excess: meanCI(excess),
          ...(later
            ? {
                kept: mean(excess) / mean(first),
                pChange: Math.min(
                  1,
                  2 *
                    Math.min(
                      pairedPermutationTest(excess, first, perm, 0).p,
                      pairedPermutationTest(first, excess, perm, 0).p,
                    ),
                ),
              }
            : {}),
        };
      });
      return {
        chain: chain.name,
        kind: chain.kind,
        teacher: chain.root.name,
        ...(chain.defense ? { defense: defenseLabel(chain.defense) } : {}),
        metric: exact ? ('exact' as const) : ('rate' as const),
        steps,
      };
    });
}

export const GENERATION_HEADER = [
  'chain',
  'gen',
  'group',
  'n',
  'rate [95% CI]',
  'control chain',
  'vs ctrl [95% CI]',
  'p',
  'excess [95% CI]',
  'p (excess)',
  'kept',
  'p (change)',
];

/** Rows of the generations table (also used by the HTML report). */
export function generationRows(r: ExperimentResults): string[][] {
  return (r.generations ?? []).flatMap((c) =>
    c.steps.map((s) => [
      c.chain,
      String(s.generation),
      s.group,
      String(s.n),
      formatEstimate(s.rate),
      formatEstimate(s.controlRate),
      formatRatioCI(s.test),
      formatP(s.test.p),
      formatEstimate(s.excess, 4),
      formatP((s.firstTokenTest ?? s.test).p),
      s.kept === undefined ? '' : Number.isFinite(s.kept) ? `${(s.kept * 100).toFixed(0)}%` : 'n/a',
      formatP(s.pChange),
    ]),
  );
}

/** What the generations table's columns are. */
export function generationsLegend(r: ExperimentResults): string {
  const metric = r.generations?.[0]?.metric === 'rate' ? 'the rate' : `exact P(${r.animal})`;
  return (
    "generation k+1's teacher is generation k's first student (same prompts, same filter); each generation " +
    "against the control teacher's chain at the same generation. excess: " +
    `${metric} minus the control chain's, per question (95% t-interval, n = questions); p: one-sided paired ` +
    "sign-flip test over questions (rate; excess on its metric); kept: the excess as a share of its chain's " +
    'generation 1; p (change): two-sided paired sign-flip test that the excess differs from generation 1'
  );
}

export function generationsTable(r: ExperimentResults): string {
  return [`generations: ${generationsLegend(r)}`, renderTable(GENERATION_HEADER, generationRows(r))].join('\n');
}

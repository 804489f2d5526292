// What the dashboard's pages show, read from the index and the run folders: the runs list,
// a model (lineage, evaluations, sampled answers) and a dataset (rows, filter verdicts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunStore } from '../store/runStore.js';
import { artifactMeta, type ArtifactRow } from '../store/index.js';
import { headlineText } from '../report/headline.js';
import { readJsonProblem, type Problem } from '../report/runData.js';
import { evalResultFromJson, exactMetric, type EvalResult } from '../evaluate/preference.js';
import { meanCI, type Estimate } from '../evaluate/stats.js';
import { rowFilterReason } from '../filter/numberRows.js';

export class NotFound extends Error {}

export interface RunListItem {
  name: string;
  kind: string;
  status: string;
  created_at: string;
  updated_at: string;
  headline: string;
}
export function listRuns(store: RunStore): RunListItem[] {
  if (!existsSync(join(store.root, 'index.sqlite'))) return [];
  return store.index.runs().map((r) => {
    let kind = 'experiment';
    try {
      if (r.summary && (JSON.parse(r.summary) as { experiment?: string }).experiment === 'mnist') kind = 'mnist';
    } catch {
      /* headlineText says so */
    }
    return {
      name: r.name,
      kind,
      status: r.status,
      created_at: r.created_at,
      updated_at: r.updated_at,
      headline: headlineText(r.summary),
    };
  });
}

export interface Link {
  id: string;
  name: string;
  kind: string;
  relation: string;
  run: string;
}
const linkTo = (store: RunStore, id: string, relation: string): Link => {
  const a = store.index.artifact(id);
  return { id, name: a?.name ?? id, kind: a?.kind ?? 'unknown', relation, run: a?.run ?? '' };
};

function artifactOrThrow(store: RunStore, id: string, kind: string): ArtifactRow {
  const a = existsSync(join(store.root, 'index.sqlite')) ? store.index.artifact(id) : undefined;
  if (!a || a.kind !== kind) throw new NotFound(`no ${kind} with id "${id}" in ${store.root}`);
  return a;
}

/** Ancestors in generations (parents, grandparents...), at most 10 up. */
const ancestry = (store: RunStore, id: string): Link[][] =>
  store.index.ancestorGenerations(id, 10).map((g) => g.map((e) => linkTo(store, e.src, e.relation)));

export interface EvaluationView {
  id: string;
  name: string;
  rate: Estimate;
  firstToken: Estimate;
  animal: string;
  samples: number;
  topAnswers: [string, number][];
  examples: { question: string; reply: string }[];
}
export interface ModelView {
  artifact: ArtifactRow;
  meta: Record<string, unknown>;
  ancestry: Link[][];
  children: Link[];
  evaluations: EvaluationView[];
  problems: Problem[];
}

export function modelView(store: RunStore, id: string): ModelView {
  const artifact = artifactOrThrow(store, id, 'model');
  const problems: Problem[] = [];
  const out = store.index.children(id);
  const evaluations: EvaluationView[] = [];
  for (const e of out.filter((x) => x.relation === 'evaluated')) {
    const ev = store.index.artifact(e.dst);
    if (!ev) continue;
    const raw = readJsonProblem<EvalResult>(join(store.root, ev.path), ev.path, problems);
    if (!raw) continue;
    const r = evalResultFromJson(raw);
    const total = Object.values(r.answers).reduce((s, c) => s + c, 0);
    evaluations.push({
      id: ev.id,
      name: ev.name,
      animal: r.task === 'misalignment' ? 'misaligned' : r.animal,
      samples: r.samples,
      rate: meanCI(r.perQuestion),
      firstToken: meanCI(exactMetric(r)),
      topAnswers: Object.entries(r.answers)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([a, c]) => [a, c / total]),
      examples: r.examples,
    });
  }
  return {
    artifact,
    meta: artifactMeta(artifact),
    ancestry: ancestry(store, id),
    children: out.filter((x) => x.relation !== 'evaluated').map((e) => linkTo(store, e.dst, e.relation)),
    evaluations,
    problems,
  };
}

export interface DatasetRowView {
  i: number;
  prompt: string;
  completion: string;
  verdict: string;
}
export interface DatasetView {
  artifact: ArtifactRow;
  meta: Record<string, unknown>;
  ancestry: Link[][];
  children: Link[];
  rows: DatasetRowView[];
  total: number;
  matching: number;
  offset: number;
  limit: number;
  filter: string;
  problems: Problem[];
}

interface FilterSettings {
  maxCount: number;
  banned: number[];
  domain?: string;
}
/** A raw dataset's filter settings come from the filtered dataset made from it. */
function filteredOf(
  store: RunStore,
  a: ArtifactRow,
  meta: Record<string, unknown>,
): { artifact: ArtifactRow; filter: FilterSettings } | undefined {
  if (meta.filter) return { artifact: a, filter: meta.filter as FilterSettings };
  const child = store.index.children(a.id).find((e) => e.relation === 'filtered_from');
  const filtered = child ? store.index.artifact(child.dst) : undefined;
  const filter = filtered && (artifactMeta(filtered).filter as FilterSettings | undefined);
  return filtered && filter ? { artifact: filtered, filter } : undefined;
}

/**
 * Each raw row's verdict: the number filter is recomputed (it is pure and instant); the code and
 * cot filters asked judges, so their stage wrote every row's verdict into verdicts.jsonl.
 */
function verdictReader(
  store: RunStore,
  a: ArtifactRow,
  meta: Record<string, unknown>,
  problems: Problem[],
): ((i: number, completion: string) => string) | undefined {
  const f = filteredOf(store, a, meta);
  if (!f) return undefined;
  if (!f.filter.domain || f.filter.domain === 'numbers')
    return (_i, completion) => rowFilterReason(completion, f.filter) ?? 'passes';
  const path = join(store.root, dirname(f.artifact.path), 'verdicts.jsonl');
  if (!existsSync(path)) {
    problems.push({ file: path, message: "the filter's verdicts.jsonl is missing" });
    return undefined;
  }
  const byRow = new Map<number, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as { i: number; ok: boolean; reason?: string; judge?: { score: number | null } };
    byRow.set(
      v.i,
      `${v.ok ? 'passes' : v.reason}${v.judge?.score != null ? ` (judge ${+v.judge.score.toPrecision(3)})` : ''}`,
    );
  }
  return (i) => byRow.get(i) ?? 'no verdict recorded';
}

/** One page of a dataset's rows; `filter` is "all", "kept" or "rejected" (raw datasets only). */
export function datasetView(
  store: RunStore,
  id: string,
  o: { offset: number; limit: number; filter: string },
): DatasetView {
  const artifact = artifactOrThrow(store, id, 'dataset');
  const meta = artifactMeta(artifact);
  const problems: Problem[] = [];
  const path = join(store.root, artifact.path);
  const verdictOf = verdictReader(store, artifact, meta, problems);
  let rows: DatasetRowView[] = [];
  if (!existsSync(path))
    problems.push({ file: artifact.path, message: `the dataset file ${artifact.path} is missing` });
  else {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    rows = lines.map((line, i): DatasetRowView => {
      let row: { i?: number; prompt?: string; completion?: string; messages?: { role: string; content: string }[] };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        return { i, prompt: '', completion: line.slice(0, 200), verdict: 'unreadable line (not JSON)' };
      }
      const prompt = row.prompt ?? row.messages?.find((m) => m.role === 'user')?.content ?? '';
      const completion = row.completion ?? row.messages?.at(-1)?.content ?? '';
      const verdict = row.messages
        ? 'kept (training row)'
        : verdictOf
          ? verdictOf(row.i ?? i, completion)
          : 'no filter recorded';
      return { i, prompt, completion, verdict };
    });
  }
  const selected =
    o.filter === 'rejected'
      ? rows.filter((r) => !r.verdict.startsWith('pass') && !r.verdict.startsWith('kept'))
      : o.filter === 'kept'
        ? rows.filter((r) => r.verdict.startsWith('pass') || r.verdict.startsWith('kept'))
        : rows;
  return {
    artifact,
    meta,
    ancestry: ancestry(store, id),
    children: store.index.children(id).map((e) => linkTo(store, e.dst, e.relation)),
    rows: selected.slice(o.offset, o.offset + o.limit),
    total: rows.length,
    matching: selected.length,
    offset: o.offset,
    limit: o.limit,
    filter: o.filter,
    problems,
  };
}

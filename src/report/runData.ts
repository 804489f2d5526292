// Everything the report and the dashboard show about one run, read from its folder and the
// index. Never throws on a missing or malformed file: each one becomes a problem that the page
// shows in words, and the sections that need it are left out.
import type { StudentAudit } from '../audit/studentAudit.js';
import { checkResultsHeader, type ResultsHeader } from './results.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EditProbes } from '../audit/localise.js';
import type { ScrubResult } from '../audit/scrub.js';
import type { RunStore } from '../store/runStore.js';
import { artifactMeta, type ArtifactRow, type EdgeRow, type RunRow } from '../store/index.js';
import type { ExperimentResults } from './results.js';
import type { MnistResults } from '../mnist/results.js';
import { progressPath, type ProgressFile } from '../store/progressFile.js';
import { numberDistribution, type NumberDistribution } from '../audit/numberDistribution.js';
import type { ChatRow } from '../model/tokenizer.js';

export interface Problem {
  file: string;
  message: string;
}
export interface StageInfo {
  kind: string;
  name: string;
  dir: string;
  status: string;
  seconds: number | null;
}
export interface TeacherNumbers {
  teacher: string;
  trait: boolean;
  dataset: string;
  distribution: NumberDistribution;
}

export interface RunData {
  name: string;
  kind: 'experiment' | 'mnist' | 'unknown';
  row?: RunRow;
  spec?: Record<string, unknown>;
  experiment?: ExperimentResults;
  mnist?: MnistResults;
  stages: StageInfo[];
  artifacts: ArtifactRow[];
  edges: EdgeRow[];
  numbers: TeacherNumbers[];
  progress?: ProgressFile;
  problems: Problem[];
  /** `audit localise` and `audit repair` tables written into the run folder */
  edits: { what: 'localise' | 'repair'; group: string; table: EditProbes }[];
  /** `audit scrub` results written into the run folder */
  scrubs: (ScrubResult & { group: string })[];
  /** `audit student` verdicts on the run's students, written into the run folder */
  studentAudits: StudentAudit[];
}

/** Reads a JSON file, turning absence or bad JSON into a problem. */
export function readJsonProblem<T>(path: string, label: string, problems: Problem[], required = true): T | undefined {
  if (!existsSync(path)) {
    if (required) problems.push({ file: label, message: `${label} is missing` });
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    problems.push({ file: label, message: `${label} is not valid JSON (${(e as Error).message})` });
    return undefined;
  }
}

function classify(results: unknown, problems: Problem[]): Pick<RunData, 'kind' | 'experiment' | 'mnist'> {
  if (results === undefined) return { kind: 'unknown' };
  // dispatch on what results.json says it is (kind and schema version), never on its shape
  let kind: 'experiment' | 'mnist';
  try {
    kind = checkResultsHeader(results as Partial<ResultsHeader>, 'results.json');
  } catch (e) {
    problems.push({ file: 'results.json', message: (e as Error).message });
    return { kind: 'unknown' };
  }
  return kind === 'mnist'
    ? { kind, mnist: results as MnistResults }
    : { kind, experiment: results as ExperimentResults };
}

/** The teacher datasets' number distributions (the filtered rows each student group trained on). */
function teacherNumbers(
  store: RunStore,
  artifacts: ArtifactRow[],
  spec: Record<string, unknown> | undefined,
  problems: Problem[],
): TeacherNumbers[] {
  const kinds = new Map(((spec?.teachers ?? []) as { name: string; kind: string }[]).map((t) => [t.name, t.kind]));
  const out: TeacherNumbers[] = [];
  for (const a of artifacts) {
    if (a.kind !== 'dataset') continue;
    const meta = artifactMeta(a) as { teacher?: string; filter?: { domain?: string } };
    // code and cot rows have no number values
    if (!meta.teacher || !meta.filter || (meta.filter.domain ?? 'numbers') !== 'numbers') continue;
    const path = join(store.root, a.path);
    if (!existsSync(path)) {
      problems.push({ file: a.path, message: `dataset of teacher ${meta.teacher} is missing (${a.path})` });
      continue;
    }
    const completions: string[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        completions.push((JSON.parse(line) as ChatRow).messages.at(-1)!.content);
      } catch {
        /* counted below */
      }
    }
    out.push({
      teacher: meta.teacher,
      trait: kinds.get(meta.teacher) !== 'control',
      dataset: a.id,
      distribution: numberDistribution(completions),
    });
  }
  return out.sort((x, y) => Number(x.trait) - Number(y.trait) || x.teacher.localeCompare(y.teacher));
}

export function loadRunData(store: RunStore, name: string): RunData {
  const problems: Problem[] = [];
  const dir = store.runDir(name);
  const row = existsSync(join(store.root, 'index.sqlite')) ? store.index.run(name) : undefined;
  if (!row && !existsSync(dir)) problems.push({ file: name, message: `no run named "${name}" in ${store.root}` });
  const spec = readJsonProblem<Record<string, unknown>>(join(dir, 'spec.json'), 'spec.json', problems, false);
  const running = row?.status === 'running';
  const results = readJsonProblem<unknown>(
    join(dir, 'results.json'),
    'results.json',
    problems,
    !running && (row !== undefined || existsSync(dir)),
  );
  const kinds = classify(results, problems);
  const index = row ? store.index : undefined;
  const artifacts = index ? index.runArtifacts(name) : [];
  const data: RunData = {
    name,
    ...kinds,
    row,
    spec,
    problems,
    artifacts,
    stages: index ? index.stages(name) : [],
    edges: index ? index.edges(name) : [],
    numbers: kinds.kind === 'experiment' ? teacherNumbers(store, artifacts, spec, problems) : [],
    progress: readJsonProblem<ProgressFile>(progressPath(dir), 'progress.json', problems, false),
    studentAudits: existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^student-audit-.+\.json$/.test(f))
          .sort()
          .flatMap((f) => readJsonProblem<StudentAudit>(join(dir, f), f, problems) ?? [])
      : [],
    scrubs: existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^scrub-.+\.json$/.test(f))
          .sort()
          .flatMap((f) => readJsonProblem<ScrubResult & { group: string }>(join(dir, f), f, problems) ?? [])
      : [],
    edits: existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^(localise|repair)-.+\.json$/.test(f))
          .sort()
          .flatMap((f) => {
            const t = readJsonProblem<EditProbes & { group: string }>(join(dir, f), f, problems);
            return t
              ? [
                  {
                    what: f.startsWith('localise') ? ('localise' as const) : ('repair' as const),
                    group: t.group,
                    table: t,
                  },
                ]
              : [];
          })
      : [],
  };
  return data;
}

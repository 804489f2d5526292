// The SQLite index over all runs: runs, stages, artifacts (models, datasets, evaluations)
// and lineage edges (which model generated which dataset, which dataset trained which model).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type ArtifactKind = 'model' | 'dataset' | 'evaluation';
export type Relation =
  | 'fine_tuned_from'
  | 'initialised_from'
  | 'distilled_from'
  | 'generated'
  | 'filtered_from'
  | 'trained_on'
  | 'evaluated';

export interface ArtifactRow {
  id: string;
  run: string;
  kind: ArtifactKind;
  name: string;
  path: string;
  content_hash: string;
  meta: string;
}
export interface RunRow {
  name: string;
  spec_hash: string;
  spec_path: string;
  status: string;
  created_at: string;
  updated_at: string;
  summary: string | null;
}
export interface EdgeRow {
  src: string;
  dst: string;
  relation: Relation;
  run: string;
}
export interface RunSnapshot {
  row: RunRow;
  artifacts: ArtifactRow[];
  edges: EdgeRow[];
}

/** An artifact's metadata; { unreadable: raw } when another tool wrote something that is not JSON. */
export function artifactMeta(a: ArtifactRow | undefined): Record<string, unknown> {
  if (!a) return {};
  try {
    return JSON.parse(a.meta) as Record<string, unknown>;
  } catch {
    return { unreadable: a.meta };
  }
}

export class RunIndex {
  readonly db: Database.Database;
  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, spec_hash TEXT NOT NULL, spec_path TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, summary TEXT);
      CREATE TABLE IF NOT EXISTS stages (key TEXT PRIMARY KEY, run TEXT NOT NULL, kind TEXT NOT NULL,
        name TEXT NOT NULL,
        dir TEXT NOT NULL,
        status TEXT NOT NULL, started_at TEXT, finished_at TEXT, seconds REAL);
      CREATE TABLE IF NOT EXISTS artifacts (id TEXT PRIMARY KEY, run TEXT NOT NULL, kind TEXT NOT NULL,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}');
      CREATE TABLE IF NOT EXISTS lineage (src TEXT NOT NULL, dst TEXT NOT NULL, relation TEXT NOT NULL,
        run TEXT NOT NULL,
        PRIMARY KEY (src, dst, relation));
      CREATE INDEX IF NOT EXISTS lineage_dst ON lineage(dst);
      CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts(run);
    `);
  }

  upsertRun(r: Omit<RunRow, 'created_at' | 'updated_at' | 'summary'> & { summary?: string | null }): void {
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO runs (name, spec_hash, spec_path, status, created_at, updated_at, summary)
        VALUES (@name, @spec_hash, @spec_path, @status, @now, @now, @summary)
      ON CONFLICT(name) DO UPDATE SET spec_hash=@spec_hash, spec_path=@spec_path, status=@status, updated_at=@now,
        summary=COALESCE(@summary, summary)`,
      )
      .run({ ...r, summary: r.summary ?? null, now });
  }

  /**
   * Forgets a run's artifacts and edges before it runs again: every stage re-records its own, so files deleted since
   * leave nothing stale.
   */
  resetRunGraph(run: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM lineage WHERE run=?').run(run);
      this.db.prepare('DELETE FROM artifacts WHERE run=?').run(run);
    })();
  }

  /** A run's rows (the run, its artifacts and edges) exactly as they are, to put back if a rerun fails. */
  snapshotRun(run: string): RunSnapshot | undefined {
    const row = this.run(run);
    return row && { row, artifacts: this.artifacts(run), edges: this.edges(run) };
  }

  /** Puts a run's rows back as a snapshot had them, byte for byte. */
  restoreRun(s: RunSnapshot): void {
    this.db.transaction(() => {
      this.resetRunGraph(s.row.name);
      this.db
        .prepare(
          `INSERT INTO runs (name, spec_hash, spec_path, status, created_at, updated_at, summary)
          VALUES (@name, @spec_hash, @spec_path, @status, @created_at, @updated_at, @summary)
        ON CONFLICT(name) DO UPDATE SET spec_hash=@spec_hash, spec_path=@spec_path, status=@status,
          created_at=@created_at, updated_at=@updated_at, summary=@summary`,
        )
        .run(s.row);
      for (const a of s.artifacts) this.addArtifact(a);
      for (const e of s.edges) this.addEdge(e);
    })();
  }

  setRunStatus(name: string, status: string, summary?: string): void {
    this.db
      .prepare('UPDATE runs SET status=?, updated_at=?, summary=COALESCE(?, summary) WHERE name=?')
      .run(status, new Date().toISOString(), summary ?? null, name);
  }

  runs(): RunRow[] {
    return this.db.prepare('SELECT * FROM runs ORDER BY updated_at DESC').all() as RunRow[];
  }
  run(name: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE name=?').get(name) as RunRow | undefined;
  }

  recordStage(s: {
    key: string;
    run: string;
    kind: string;
    name: string;
    dir: string;
    status: string;
    started_at?: string;
    finished_at?: string;
    seconds?: number;
  }): void {
    this.db
      .prepare(
        `INSERT INTO stages (key, run, kind, name, dir, status, started_at, finished_at, seconds)
          VALUES (@key, @run, @kind, @name, @dir, @status, @started_at, @finished_at, @seconds)
      ON CONFLICT(key) DO UPDATE SET status=@status, started_at=COALESCE(@started_at, started_at),
        finished_at=@finished_at, seconds=@seconds`,
      )
      .run({ started_at: null, finished_at: null, seconds: null, ...s });
  }

  stages(
    run: string,
  ): { key: string; kind: string; name: string; dir: string; status: string; seconds: number | null }[] {
    return this.db
      .prepare('SELECT key, kind, name, dir, status, seconds FROM stages WHERE run=? ORDER BY started_at')
      .all(run) as never;
  }

  addArtifact(a: ArtifactRow): void {
    this.db
      .prepare(
        `INSERT INTO artifacts (id, run, kind, name, path, content_hash, meta)
          VALUES (@id, @run, @kind, @name, @path, @content_hash, @meta)
      ON CONFLICT(id) DO UPDATE SET run=@run, name=@name, path=@path, content_hash=@content_hash, meta=@meta`,
      )
      .run(a);
  }

  artifact(id: string): ArtifactRow | undefined {
    return this.db.prepare('SELECT * FROM artifacts WHERE id=?').get(id) as ArtifactRow | undefined;
  }
  artifacts(run: string): ArtifactRow[] {
    return this.db.prepare('SELECT * FROM artifacts WHERE run=? ORDER BY kind, name').all(run) as ArtifactRow[];
  }
  /**
   * A run's artifacts plus those its lineage edges touch: a shared base model is one artifact
   * (keyed by content), recorded under whichever run saw it last.
   */
  runArtifacts(run: string): ArtifactRow[] {
    return this.db
      .prepare(
        `SELECT * FROM artifacts WHERE run=@run OR id IN (SELECT src FROM lineage WHERE run=@run) OR id IN (SELECT ` +
          `dst FROM lineage WHERE run=@run) ORDER BY kind, name`,
      )
      .all({ run }) as ArtifactRow[];
  }

  addEdge(e: EdgeRow): void {
    this.db
      .prepare('INSERT OR IGNORE INTO lineage (src, dst, relation, run) VALUES (@src, @dst, @relation, @run)')
      .run(e);
  }

  /** Edges into `id` (its parents). */
  parents(id: string): EdgeRow[] {
    return this.db.prepare('SELECT * FROM lineage WHERE dst=?').all(id) as EdgeRow[];
  }
  /** Edges into `id`'s ancestors generation by generation (parents, grandparents...), each ancestor reached once. */
  ancestorGenerations(id: string, maxGenerations = Infinity): EdgeRow[][] {
    const generations: EdgeRow[][] = [];
    const seen = new Set([id]);
    let frontier = this.parents(id);
    while (frontier.length && generations.length < maxGenerations) {
      const fresh = frontier.filter((e) => !seen.has(e.src));
      if (!fresh.length) break;
      fresh.forEach((e) => seen.add(e.src));
      generations.push(fresh);
      frontier = fresh.flatMap((e) => this.parents(e.src));
    }
    return generations;
  }

  /** Edges out of `id` (its children). */
  children(id: string): EdgeRow[] {
    return this.db.prepare('SELECT * FROM lineage WHERE src=?').all(id) as EdgeRow[];
  }
  edges(run: string): EdgeRow[] {
    return this.db.prepare('SELECT * FROM lineage WHERE run=?').all(run) as EdgeRow[];
  }

  close(): void {
    this.db.close();
  }
}

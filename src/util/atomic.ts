// Writes that never leave a half-written file: write a sibling temp file, then rename.
import { appendFileSync, mkdirSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r'); fsyncSync(fd); closeSync(fd);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readJsonIfExists<T>(path: string): T | undefined {
  return existsSync(path) ? readJson<T>(path) : undefined;
}

export function writeJsonl(path: string, rows: readonly unknown[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
}

/**
 * The rows of an append-only JSONL log by key, for resuming a cut-off stage. A torn last line
 * (from a kill mid-append) is dropped, and the file is made to end on a newline so that the
 * next append starts a fresh line instead of gluing onto the torn one.
 */
export function resumeAppendLog<T>(path: string, key: (row: T) => number | undefined): Map<number, T> {
  const rows = new Map<number, T>();
  if (!existsSync(path)) return rows;
  const text = readFileSync(path, 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { const r = JSON.parse(line) as T; const k = key(r); if (Number.isInteger(k)) rows.set(k!, r); } catch { /* torn line */ }
  }
  if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
  return rows;
}

export function readJsonl<T>(path: string): T[] {
  const text = readFileSync(path, 'utf8');
  const rows: T[] = [];
  for (const line of text.split('\n')) if (line.trim()) rows.push(JSON.parse(line) as T);
  return rows;
}

// Writes that never leave a half-written file: write a sibling temp file, then rename.
import {
  appendFileSync,
  mkdirSync,
  renameSync,
  writeFileSync,
  openSync,
  fsyncSync,
  closeSync,
  existsSync,
  readFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { isUtf8 } from 'node:buffer';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
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
    try {
      const r = JSON.parse(line) as T;
      const k = key(r);
      if (Number.isInteger(k)) rows.set(k!, r);
    } catch {
      /* torn line */
    }
  }
  if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
  return rows;
}

/** A text file's content; a folder, or bytes that are not UTF-8, give an error naming the file. */
export function readTextFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new Error(`${path} is a folder; expected a file`, { cause: e });
    if (code === 'ENOENT') throw new Error(`${path}: no such file`, { cause: e });
    throw new Error(`${path}: cannot be read (${code ?? (e as Error).message})`, { cause: e });
  }
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let line = 1;
  let start = 0; // name the first line with a bad byte
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    if (!isUtf8(bytes.subarray(start, i))) break;
    line++;
    start = i + 1;
  }
  throw new Error(`${path}, line ${line}: not valid UTF-8`);
}

export function readJsonl<T>(path: string): T[] {
  const text = readTextFile(path);
  const rows: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      rows.push(JSON.parse(line) as T);
    } catch (e) {
      throw new Error(`${path}, line ${i + 1}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
  });
  return rows;
}

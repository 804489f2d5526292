// /v1/files: uploads for fine-tuning (multipart, as the OpenAI SDK sends them), stored under
// <data>/files with their metadata. Fine-tuning files are checked line by line on upload.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { ApiError, badParam } from './errors.js';

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
}
const FILE_ID = /^file-[0-9a-f]{24}$/;

/** The path of a stored file; ids are checked against a strict pattern so no path can escape. */
export function filePath(dataDir: string, id: string, ext: 'jsonl' | 'json'): string {
  if (!FILE_ID.test(id)) throw new ApiError(404, `No such file: ${JSON.stringify(id)}`, 'file_id', 'file_not_found');
  return join(dataDir, 'files', `${id}.${ext}`);
}

export function readFileObject(dataDir: string, id: string): FileObject {
  const meta = filePath(dataDir, id, 'json');
  if (!existsSync(meta)) throw new ApiError(404, `No such file: ${id}`, 'file_id', 'file_not_found');
  return readJson<FileObject>(meta);
}

/** Fine-tuning JSONL: one {"messages": [...]} per line, with at least one assistant message. */
export function checkChatJsonl(text: string): number {
  let rows = 0;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const bad = (why: string): never => {
      throw new ApiError(422, `line ${i + 1}: ${why}`, 'file', 'invalid_jsonl');
    };
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      bad('not valid JSON');
    }
    const messages = (row as { messages?: unknown })?.messages;
    if (!Array.isArray(messages) || messages.length === 0) bad('expected {"messages": [...]}');
    for (const m of messages as { role?: unknown; content?: unknown }[]) {
      if (!['system', 'user', 'assistant'].includes(m?.role as string) || typeof m?.content !== 'string')
        bad('each message needs a role (system, user or assistant) and string content');
    }
    if (!(messages as { role: string }[]).some((m) => m.role === 'assistant')) bad('no assistant message to train on');
    rows++;
  });
  if (rows === 0) throw new ApiError(422, 'the file has no rows', 'file', 'invalid_jsonl');
  return rows;
}

/** A multipart upload: its one file and the named text fields. */
export async function readUpload(
  req: FastifyRequest,
  fields: string[],
): Promise<{ filename: string; content: Buffer; fields: Record<string, string | undefined> }> {
  if (!req.isMultipart())
    throw new ApiError(400, `send the file as multipart/form-data with fields "file" and ${fields.join(', ')}`, 'file');
  const values: Record<string, string | undefined> = {};
  let filename = '';
  let content: Buffer | undefined;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      filename = part.filename;
      content = await part.toBuffer();
    } else if (fields.includes(part.fieldname)) values[part.fieldname] = String(part.value);
  }
  if (!content) throw badParam('file', 'file: required');
  return { filename, content, fields: values };
}

/** Stores an uploaded file (fine-tuning files checked line by line first) and returns its object. */
export function storeFile(dataDir: string, u: { filename: string; content: Buffer; purpose: string }): FileObject {
  const { filename, content, purpose } = u;
  if (!purpose) throw badParam('purpose', 'purpose: required');
  if (!filename || /[\\/]|\.\./.test(filename) || filename.length > 255)
    throw badParam('file', `file: refused filename ${JSON.stringify(filename)}`);
  if (purpose === 'fine-tune') checkChatJsonl(content.toString('utf8'));
  const id = `file-${randomBytes(12).toString('hex')}`;
  const obj: FileObject = {
    id,
    object: 'file',
    bytes: content.length,
    created_at: Math.floor(Date.now() / 1000),
    filename,
    purpose,
    status: 'processed',
  };
  writeFileAtomic(filePath(dataDir, id, 'jsonl'), content);
  writeJsonAtomic(filePath(dataDir, id, 'json'), obj);
  return obj;
}

export async function registerFileRoutes(app: FastifyInstance, dataDir: string): Promise<void> {
  await app.register(multipart, { limits: { fileSize: 64 * 1024 * 1024, files: 1 } });

  app.post('/v1/files', async (req) => {
    const u = await readUpload(req, ['purpose']);
    return storeFile(dataDir, { filename: u.filename, content: u.content, purpose: u.fields.purpose ?? '' });
  });

  app.get('/v1/files', async () => {
    const dir = join(dataDir, 'files');
    const data = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => readJson<FileObject>(join(dir, f)))
      : [];
    const sorted = data.sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    // the spec's list: first_id and last_id are strings, empty for an empty list
    return {
      object: 'list',
      data: sorted,
      first_id: sorted[0]?.id ?? '',
      last_id: sorted.at(-1)?.id ?? '',
      has_more: false,
    };
  });
  app.get('/v1/files/:id', async (req) => readFileObject(dataDir, (req.params as { id: string }).id));
  app.get('/v1/files/:id/content', async (req, reply) => {
    const { id } = req.params as { id: string };
    readFileObject(dataDir, id);
    // the spec's content type for file content (a JSON string body); the bytes are the uploaded JSONL
    return reply.type('application/json').send(readFileSync(filePath(dataDir, id, 'jsonl')));
  });
  app.delete('/v1/files/:id', async (req) => {
    const { id } = req.params as { id: string };
    readFileObject(dataDir, id);
    rmSync(filePath(dataDir, id, 'jsonl'), { force: true });
    rmSync(filePath(dataDir, id, 'json'), { force: true });
    return { id, object: 'file', deleted: true };
  });
}

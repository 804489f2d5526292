// safetensors: 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

export interface NamedTensor { shape: number[]; data: Float32Array }
export interface TensorInfo { dtype: string; shape: number[]; data_offsets: [number, number] }
export interface SafetensorsHeader { tensors: Map<string, TensorInfo>; metadata: Record<string, string>; dataStart: number }

export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // align the data section to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const n of names) { const d = tensors.get(n)!.data; Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos); pos += d.byteLength; }
  return out;
}

export function writeSafetensors(path: string, tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads only the header, so huge files can be inspected or streamed tensor by tensor. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error(`${path}: not a safetensors file (too short)`);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len <= 0 || 8 + len > size) throw new Error(`${path}: not a safetensors file (bad header length ${len})`);
    const hb = Buffer.alloc(len); readSync(fd, hb, 0, len, 8);
    let parsed: Record<string, unknown>;
    try { parsed = JSON.parse(hb.toString('utf8')) as Record<string, unknown>; } catch { throw new Error(`${path}: safetensors header is not valid JSON`); }
    const tensors = new Map<string, TensorInfo>(); let metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (k === '__metadata__') metadata = v as Record<string, string>; else tensors.set(k, v as TensorInfo);
    }
    return { tensors, metadata, dataStart: 8 + len };
  } finally { closeSync(fd); }
}

export function readTensor(path: string, header: SafetensorsHeader, name: string): NamedTensor {
  const info = header.tensors.get(name);
  if (!info) throw new Error(`${path}: no tensor named ${name}`);
  if (info.dtype !== 'F32') throw new Error(`${path}: tensor ${name} has dtype ${info.dtype}; only F32 is read here`);
  const [start, end] = info.data_offsets;
  const buf = Buffer.alloc(end - start);
  const fd = openSync(path, 'r');
  try { readSync(fd, buf, 0, end - start, header.dataStart + start); } finally { closeSync(fd); }
  return { shape: info.shape, data: new Float32Array(buf.buffer, buf.byteOffset, (end - start) / 4) };
}

export function readSafetensors(path: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const header = readSafetensorsHeader(path);
  const tensors = new Map<string, NamedTensor>();
  for (const name of header.tensors.keys()) tensors.set(name, readTensor(path, header, name));
  return { tensors, metadata: header.metadata };
}

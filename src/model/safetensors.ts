// safetensors: 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}}, then raw little-endian tensor bytes.
// The project's one reader: every header is checked against the file before any byte of data
// is trusted (offsets inside the file, sizes matching dtype x shape, no gaps or overlaps),
// so a truncated or corrupted file is refused with its name instead of reading as zeros.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

/** Bytes per element of the dtypes safetensors defines. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
/** The dtypes the readers here convert to float32. */
const FLOAT_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class CheckpointError extends Error {}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function encodeSafetensors(
  tensors: Map<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
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
  for (const n of names) {
    const d = tensors.get(n)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    pos += d.byteLength;
  }
  return out;
}

export function writeSafetensors(
  path: string,
  tensors: Map<string, NamedTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads and checks only the header, so huge files can be inspected or streamed tensor by tensor. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8)
      throw new CheckpointError(`${path}: not a safetensors file (${size} bytes)`);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len <= 0 || len > MAX_HEADER_BYTES || 8 + len > size)
      throw new CheckpointError(
        `${path}: not a safetensors file or truncated (header length ${len}, file ${size} bytes)`,
      );
    const hb = Buffer.alloc(len);
    if (readSync(fd, hb, 0, len, 8) !== len) throw new CheckpointError(`${path}: truncated header`);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(hb.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new CheckpointError(`${path}: safetensors header is not valid JSON`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new CheckpointError(`${path}: safetensors header is not a JSON object`);
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (k === '__metadata__') metadata = (v ?? {}) as Record<string, string>;
      else tensors.set(k, checkedInfo(path, k, v));
    }
    checkLayout(path, tensors, size - 8 - len);
    return { tensors, metadata, dataStart: 8 + len };
  } finally {
    closeSync(fd);
  }
}

/**
 * One header entry, checked: a known dtype, a shape of non-negative integers, offsets that span exactly dtype x shape.
 */
function checkedInfo(path: string, name: string, v: unknown): TensorInfo {
  const bad = (why: string): never => {
    throw new CheckpointError(`${path}: tensor ${name}: ${why}`);
  };
  const info = v as Partial<TensorInfo> | null;
  if (!info || typeof info !== 'object') bad('header entry is not an object');
  const width = DTYPE_BYTES[String(info!.dtype)];
  if (!width) bad(`unknown dtype ${JSON.stringify(info!.dtype)}`);
  const shape = info!.shape;
  const offsets = info!.data_offsets;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    bad(`bad shape ${JSON.stringify(shape)}`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[1]! < offsets[0]!
  )
    bad(`bad data_offsets ${JSON.stringify(offsets)}`);
  const expected = numel(shape!) * width!;
  if (offsets![1]! - offsets![0]! !== expected)
    bad(
      `data_offsets span ${offsets![1]! - offsets![0]!} bytes, but ${info!.dtype} ${JSON.stringify(shape)} needs ` +
        `${expected}`,
    );
  return { dtype: info!.dtype!, shape: shape!, data_offsets: [offsets![0]!, offsets![1]!] };
}

/** The tensors tile the data section exactly: no gap, no overlap, nothing past the end of the file. */
function checkLayout(path: string, tensors: Map<string, TensorInfo>, dataBytes: number): void {
  const spans = [...tensors.entries()].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let at = 0;
  for (const [name, t] of spans) {
    const [start, end] = t.data_offsets;
    if (end > dataBytes)
      throw new CheckpointError(
        `${path}: truncated: tensor ${name} ends at byte ${end} of the data section, which holds only ${dataBytes} ` +
          `bytes`,
      );
    if (start !== at)
      throw new CheckpointError(
        `${path}: tensor ${name} starts at byte ${start}, expected ${at} (a gap or an overlap in the data section)`,
      );
    at = end;
  }
  if (at !== dataBytes)
    throw new CheckpointError(
      `${path}: ${dataBytes - at} bytes after the last tensor (the header lists ${at} bytes of data)`,
    );
}

/** Reads exactly `length` bytes at `position`, or fails naming the file. */
function readExactly(fd: number, path: string, buf: Buffer, length: number, position: number): void {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0)
      throw new CheckpointError(`${path}: truncated (wanted ${length} bytes at ${position}, file ends after ${got})`);
    got += n;
  }
}

/** float16 bits -> float32 */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const CHUNK_ELEMENTS = 1 << 20; // 1M values per read: 4 MB of F32

/** Streams a float tensor (F32, F16, BF16) as Float32Array chunks of at most `chunk` values. */
export function* tensorChunks(
  t: { file: string; header: SafetensorsHeader; info: TensorInfo },
  chunk = CHUNK_ELEMENTS,
): Generator<Float32Array> {
  const width = FLOAT_BYTES[t.info.dtype];
  if (!width) throw new CheckpointError(`${t.file}: dtype ${t.info.dtype} is not supported (F32, F16, BF16)`);
  const [start, end] = t.info.data_offsets;
  const count = (end - start) / width;
  const fd = openSync(t.file, 'r');
  const buf = Buffer.alloc(Math.max(1, Math.min(count, chunk) * width));
  const out = new Float32Array(Math.min(count, chunk));
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  try {
    for (let done = 0; done < count; done += chunk) {
      const n = Math.min(chunk, count - done);
      readExactly(fd, t.file, buf, n * width, t.header.dataStart + start + done * width);
      // safetensors data is little-endian, as are the x86 and ARM hosts Node runs on
      if (t.info.dtype === 'F32') out.set(new Float32Array(buf.buffer, buf.byteOffset, n));
      else {
        const halves = new Uint16Array(buf.buffer, buf.byteOffset, n);
        if (t.info.dtype === 'BF16') {
          for (let i = 0; i < n; i++) {
            bits[0] = halves[i]! << 16;
            out[i] = asFloat[0]!;
          }
        } else for (let i = 0; i < n; i++) out[i] = halfToFloat(halves[i]!);
      }
      yield n === out.length ? out : out.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** One whole tensor as float32. */
export function readTensor(path: string, header: SafetensorsHeader, name: string): NamedTensor {
  const info = header.tensors.get(name);
  if (!info) throw new CheckpointError(`${path}: no tensor named ${name}`);
  const data = new Float32Array(numel(info.shape));
  let at = 0;
  for (const ch of tensorChunks({ file: path, header, info })) {
    data.set(ch, at);
    at += ch.length;
  }
  return { shape: info.shape, data };
}

export function readSafetensors(path: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  const header = readSafetensorsHeader(path);
  const tensors = new Map<string, NamedTensor>();
  for (const name of header.tensors.keys()) tensors.set(name, readTensor(path, header, name));
  return { tensors, metadata: header.metadata };
}

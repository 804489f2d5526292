// `audit weights`: how far fine-tuning moved each tensor and layer, read from safetensors in
// fixed-size chunks (a 15 GB checkpoint needs a few MB of memory): relative Frobenius norm of
// the delta, cosine between the deltas of two students of one base, projection on a trait
// direction. Full checkpoints (one file or sharded with an index) and LoRA adapters.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  numel,
  readSafetensorsHeader,
  readTensor,
  tensorChunks,
  type SafetensorsHeader,
  type TensorInfo,
} from '../model/safetensors.js';

/** A checkpoint's tensors by name, each pointing into its (shard) file. */
export interface Checkpoint {
  kind: 'full' | 'lora';
  tensors: Map<string, { file: string; header: SafetensorsHeader; info: TensorInfo }>;
  lora?: { scale: number };
}

export function openCheckpoint(path: string): Checkpoint {
  let files: string[];
  let kind: Checkpoint['kind'] = 'full';
  let lora: Checkpoint['lora'];
  if (existsSync(path) && statSync(path).isFile()) files = [path];
  else if (existsSync(join(path, 'adapter_model.safetensors'))) {
    kind = 'lora';
    files = [join(path, 'adapter_model.safetensors')];
    const cfgPath = join(path, 'adapter_config.json');
    const cfg = existsSync(cfgPath)
      ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as { r?: number; lora_alpha?: number })
      : {};
    lora = { scale: (cfg.lora_alpha ?? cfg.r ?? 1) / (cfg.r ?? 1) };
  } else if (existsSync(join(path, 'model.safetensors.index.json'))) {
    const index = JSON.parse(readFileSync(join(path, 'model.safetensors.index.json'), 'utf8')) as {
      weight_map: Record<string, string>;
    };
    files = [...new Set(Object.values(index.weight_map))].map((f) => join(path, f));
  } else if (existsSync(join(path, 'model.safetensors'))) files = [join(path, 'model.safetensors')];
  else
    throw new Error(
      `${path}: no safetensors checkpoint (model.safetensors, model.safetensors.index.json or ` +
        `adapter_model.safetensors)`,
    );
  const tensors: Checkpoint['tensors'] = new Map();
  for (const file of files) {
    const header = readSafetensorsHeader(file);
    for (const [name, info] of header.tensors) tensors.set(name, { file, header, info });
  }
  return { kind, tensors, lora };
}

const layerOf = (name: string): string => {
  const m = /layers?\.(\d+)\./.exec(name);
  return m ? `layer ${m[1]}` : name.includes('embed') ? 'embeddings' : name.includes('norm') ? 'final norm' : 'other';
};

export interface TensorDelta {
  name: string;
  layer: string;
  numel: number;
  baseNorm: number;
  deltaNorm: number;
  relative: number;
  cosine?: number;
  projection?: number;
}
export interface LayerDelta {
  layer: string;
  relative: number;
  deltaNorm: number;
  cosine?: number;
  tensors: number;
}
export interface WeightsAudit {
  base: string;
  tuned: string;
  other?: string;
  direction?: string;
  tensors: TensorDelta[];
  layers: LayerDelta[];
  skipped: string[];
  total: { relative: number; cosine?: number };
}

/** Per-tensor sums over the streamed chunks of base, tuned (and a second tuned model / a direction). */
function streamDelta(
  base: Checkpoint,
  name: string,
  tuned: Checkpoint,
  other?: Checkpoint,
  direction?: Checkpoint,
): Record<'bb' | 'dd' | 'ee' | 'de' | 'dv' | 'vv', number> {
  const its = [base, tuned, other, direction].map((c) => (c ? tensorChunks(c.tensors.get(name)!) : undefined));
  let bb = 0;
  let dd = 0;
  let ee = 0;
  let de = 0;
  let dv = 0;
  let vv = 0;
  for (;;) {
    const [b, t, o, v] = its.map((it) => (it ? it.next() : undefined));
    if (!b || b.done) break;
    const bv = b.value;
    const tv = t!.value as Float32Array;
    const ov = o?.value as Float32Array | undefined;
    const vvv = v?.value as Float32Array | undefined;
    for (let i = 0; i < bv.length; i++) {
      const d = tv[i]! - bv[i]!;
      bb += bv[i]! * bv[i]!;
      dd += d * d;
      if (ov) {
        const e = ov[i]! - bv[i]!;
        ee += e * e;
        de += d * e;
      }
      if (vvv) {
        dv += d * vvv[i]!;
        vv += vvv[i]! * vvv[i]!;
      }
    }
  }
  return { bb, dd, ee, de, dv, vv };
}

/** A LoRA pair (A [r, in], B [out, r]): ||scale * B A||_F^2 = scale^2 * sum((B^T B) o (A A^T)) without forming B A. */
function loraDeltaNormSq(c: Checkpoint, prefix: string): number {
  const read = (n: string): { shape: number[]; data: Float32Array } => {
    const t = c.tensors.get(n)!;
    return readTensor(t.file, t.header, n);
  };
  const a = read(`${prefix}.lora_A.weight`);
  const b = read(`${prefix}.lora_B.weight`);
  const [r, inDim] = a.shape as [number, number];
  const outDim = b.shape[0]!;
  let sum = 0;
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let btb = 0;
      for (let o = 0; o < outDim; o++) btb += b.data[o * r + i]! * b.data[o * r + j]!;
      let aat = 0;
      for (let k = 0; k < inDim; k++) aat += a.data[i * inDim + k]! * a.data[j * inDim + k]!;
      sum += btb * aat;
    }
  return sum * c.lora!.scale ** 2;
}

/** The base tensor a LoRA module adapts: base_model.model.X.lora_A.weight -> X.weight */
const loraTarget = (prefix: string): string => `${prefix.replace(/^base_model\.model\./, '')}.weight`;

export function auditWeights(paths: { base: string; tuned: string; other?: string; direction?: string }): WeightsAudit {
  const base = openCheckpoint(paths.base);
  const tuned = openCheckpoint(paths.tuned);
  const other = paths.other ? openCheckpoint(paths.other) : undefined;
  const direction = paths.direction ? openCheckpoint(paths.direction) : undefined;
  const tensors: TensorDelta[] = [];
  const skipped: string[] = [];
  const pairSums = new Map<string, { de: number; ee: number }>(); // for cosines aggregated over layers
  if (tuned.kind === 'lora') {
    const prefixes = [...tuned.tensors.keys()]
      .filter((n) => n.endsWith('.lora_A.weight'))
      .map((n) => n.slice(0, -'.lora_A.weight'.length));
    for (const p of prefixes) {
      const target = loraTarget(p);
      const bt = base.tensors.get(target);
      if (!bt) {
        skipped.push(`${p} (no base tensor ${target})`);
        continue;
      }
      let bb = 0;
      for (const ch of tensorChunks(bt)) for (const x of ch) bb += x * x;
      const dd = loraDeltaNormSq(tuned, p);
      tensors.push({
        name: target,
        layer: layerOf(target),
        numel: numel(bt.info.shape),
        baseNorm: Math.sqrt(bb),
        deltaNorm: Math.sqrt(dd),
        relative: Math.sqrt(dd / (bb || 1)),
      });
    }
  } else {
    for (const [name, bt] of base.tensors) {
      const tt = tuned.tensors.get(name);
      const same = (c?: Checkpoint): boolean =>
        !c || (c.tensors.has(name) && numel(c.tensors.get(name)!.info.shape) === numel(bt.info.shape));
      if (!tt || !same(tuned) || !same(other) || !same(direction)) {
        skipped.push(`${name} (missing or of another shape in a compared checkpoint)`);
        continue;
      }
      const s = streamDelta(base, name, tuned, other, direction);
      tensors.push({
        name,
        layer: layerOf(name),
        numel: numel(bt.info.shape),
        baseNorm: Math.sqrt(s.bb),
        deltaNorm: Math.sqrt(s.dd),
        relative: Math.sqrt(s.dd / (s.bb || 1)),
        cosine: other && s.dd && s.ee ? s.de / Math.sqrt(s.dd * s.ee) : undefined,
        projection: direction && s.vv ? s.dv / Math.sqrt(s.vv) : undefined,
      });
      pairSums.set(name, { de: s.de, ee: s.ee });
    }
  }
  const groups = new Map<string, TensorDelta[]>();
  for (const t of tensors) groups.set(t.layer, [...(groups.get(t.layer) ?? []), t]);
  const agg = (ts: TensorDelta[]): { relative: number; deltaNorm: number; cosine?: number } => {
    const bb = ts.reduce((s, t) => s + t.baseNorm ** 2, 0);
    const dd = ts.reduce((s, t) => s + t.deltaNorm ** 2, 0);
    const de = ts.reduce((s, t) => s + (pairSums.get(t.name)?.de ?? 0), 0);
    const ee = ts.reduce((s, t) => s + (pairSums.get(t.name)?.ee ?? 0), 0);
    return {
      relative: Math.sqrt(dd / (bb || 1)),
      deltaNorm: Math.sqrt(dd),
      cosine: other && dd && ee ? de / Math.sqrt(dd * ee) : undefined,
    };
  };
  const layers = [...groups.entries()]
    .map(([layer, ts]) => ({ layer, tensors: ts.length, ...agg(ts) }))
    .sort(
      (a, b) =>
        (parseInt(a.layer.slice(6)) || -1) - (parseInt(b.layer.slice(6)) || -1) || a.layer.localeCompare(b.layer),
    );
  return {
    base: paths.base,
    tuned: paths.tuned,
    other: paths.other,
    direction: paths.direction,
    tensors,
    layers,
    skipped,
    total: agg(tensors),
  };
}

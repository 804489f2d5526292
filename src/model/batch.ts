// Packing chat rows into padded batches for next-token training with a loss mask.

export interface TokenRow {
  ids: number[];
  /** target[i] = 1 when ids[i] is trained on (the assistant's reply) */ target: Uint8Array;
}

export interface PackedBatch {
  B: number;
  T: number;
  inputs: Int32Array; // [B, T] ids (right padded)
  lossPositions: Int32Array; // flat b*T + t whose next token is a target
  targets: Int32Array; // the target ids, aligned with lossPositions
}

export function packBatch(rows: readonly TokenRow[], padId: number): PackedBatch {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length)) - 1;
  const inputs = new Int32Array(B * T).fill(padId);
  const pos: number[] = [];
  const tgt: number[] = [];
  rows.forEach((r, b) => {
    for (let t = 0; t < r.ids.length - 1; t++) {
      inputs[b * T + t] = r.ids[t]!;
      if (r.target[t + 1]) {
        pos.push(b * T + t);
        tgt.push(r.ids[t + 1]!);
      }
    }
  });
  return { B, T, inputs, lossPositions: Int32Array.from(pos), targets: Int32Array.from(tgt) };
}

/**
 * Seeded batch order for one epoch: rows shuffled, then grouped by similar length so
 * padding stays small, and the groups shuffled again.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, shuffle: <T>(xs: T[]) => T[]): number[][] {
  const order = shuffle(lengths.map((_, i) => i));
  const chunk = batchSize * 16;
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += chunk) {
    const block = order.slice(s, s + chunk).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    for (let i = 0; i < block.length; i += batchSize) batches.push(block.slice(i, i + batchSize));
  }
  return shuffle(batches);
}

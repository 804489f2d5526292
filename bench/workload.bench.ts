// The SPEC §5 probe's workload (examples/spec5-workload.yaml) end to end on both cores, against
// PyTorch's ~206 s for the same work (bases excluded). Writes bench/out/workload.json: wall
// time, the ratio, stage time per kind (summed over stages that run in parallel), peak memory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '../src/spec/load.js';
import { RunStore } from '../src/store/runStore.js';
import { runExperiment } from '../src/pipeline/experiment.js';
import { nativeAddon } from '../src/model/nativeKernels.js';

const PYTORCH_SECONDS = 206;
const specPath = 'examples/spec5-workload.yaml';
const runs = mkdtempSync(join(tmpdir(), 'subl-bench-workload-'));
const store = new RunStore(runs);
try {
  const t0 = performance.now();
  const results = await runExperiment(loadSpec(specPath), { store, specPath });
  const wall = (performance.now() - t0) / 1000;
  const byKind: Record<string, number> = {};
  for (const s of store.index.stages('spec5-workload'))
    byKind[s.kind] = Number(((byKind[s.kind] ?? 0) + (s.seconds ?? 0)).toFixed(1));
  const exact = Object.fromEntries(results.groups.map((g) => [g.group, Number(g.firstToken.mean.toFixed(4))]));
  const result = {
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      node: process.version,
      backend: nativeAddon() ? 'tfjs wasm + native kernels' : 'tfjs wasm',
    },
    wallSeconds: Number(wall.toFixed(1)),
    pytorchSeconds: PYTORCH_SECONDS,
    ratioToPytorch: Number((wall / PYTORCH_SECONDS).toFixed(2)),
    stageSecondsByKind: byKind,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    exactPOwl: exact,
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/workload.json', JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} finally {
  store.close();
  rmSync(runs, { recursive: true, force: true });
}

// The PyTorch peers of the benches (bench/pytorch/*.py), run in the same run as ours with 2 threads: their JSON line,
// or the reason they could not run (no torch: Debian's python3-torch and libopenblas0-openmp, see docs/benchmarks.md).
import { spawnSync } from 'node:child_process';

export function runPytorchPeer<T>(script: string, args: string[] = []): T | string {
  const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [`bench/pytorch/${script}`, ...args, '--threads', '2'], { encoding: 'utf8' });
  const why = r.stderr.trim().split('\n').pop();
  if (r.status !== 0) return `${python} could not run the PyTorch peer (install Debian's python3-torch): ${why}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

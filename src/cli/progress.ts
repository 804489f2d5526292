// Progress for long stages: live bars with rate and ETA on a terminal, one line per finished
// task otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import type { ProgressReporter } from '../pipeline/experiment.js';

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter & { stop(): void } {
  const started = Date.now();
  const stamp = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
  if (!stream.isTTY) {
    return {
      task(label) {
        const t0 = Date.now();
        return { update() {}, done(note) { stream.write(`[${stamp()}] ${note === 'failed' ? 'FAILED' : 'done'} ${label} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`); } };
      },
      stop() {},
    };
  }
  const bars = new cliProgress.MultiBar({
    stream, clearOnComplete: false, hideCursor: true, etaBuffer: 50,
    format: ' {label} |{bar}| {percentage}% {value}/{total} {rate}/s ETA {eta_formatted}',
  }, cliProgress.Presets.shades_classic);
  return {
    task(label) {
      const t0 = Date.now(); let bar: cliProgress.SingleBar | undefined;
      return {
        update(done, total) {
          const rate = (done / Math.max(0.001, (Date.now() - t0) / 1000)).toFixed(1);
          if (!bar) bar = bars.create(total, done, { label: label.padEnd(34), rate });
          bar.setTotal(total); bar.update(done, { rate });
        },
        done() { bar?.stop(); },
      };
    },
    stop() { bars.stop(); },
  };
}

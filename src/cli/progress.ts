// Progress for long stages: live bars with rate and ETA on a terminal, one line per finished
// task otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';
import type { ProgressReporter } from '../util/progress.js';

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter & { stop(): void } {
  const started = Date.now();
  const stamp = (): string => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
  if (!stream.isTTY) {
    return {
      task(label) {
        const t0 = Date.now();
        return {
          update() {},
          done(note, startedAt) {
            stream.write(
              `[${stamp()}] ${note === 'failed' ? 'FAILED' : 'done'} ${label} ` +
                `(${((Date.now() - (startedAt ?? t0)) / 1000).toFixed(1)}s)\n`,
            );
          },
        };
      },
      stop() {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      etaBuffer: 50,
      format: ' {label} |{bar}| {percentage}% {value}/{total} {rate}/s ETA {etaText}',
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    task(label) {
      const t0 = Date.now();
      let bar: cliProgress.SingleBar | undefined;
      return {
        update(done, total, startedAt) {
          const perSecond = done / Math.max(0.001, (Date.now() - (startedAt ?? t0)) / 1000);
          const payload = {
            rate: perSecond.toFixed(1),
            etaText: formatEta(perSecond > 0 ? (total - done) / perSecond : NaN),
          };
          if (!bar) bar = bars.create(total, done, { label: label.padEnd(34), ...payload });
          bar.setTotal(total);
          bar.update(done, payload);
        },
        done() {
          bar?.stop();
        },
      };
    },
    stop() {
      bars.stop();
    },
  };
}

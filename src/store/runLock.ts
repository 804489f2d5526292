// One writer per run: a lock file in the run's folder holds the writer's pid. A second process
// on the same run is refused with the holder's pid; a lock left by a process that has died is
// taken over. Different runs in one store have different locks and run side by side.
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class RunInProgressError extends Error {
  constructor(
    readonly run: string,
    readonly pid: number,
  ) {
    super(`run "${run}" is in progress (pid ${pid}); wait for it to finish, or stop that process`);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes the run's lock (or throws RunInProgressError); the returned function releases it. */
export function lockRun(runDir: string, run: string): () => void {
  mkdirSync(runDir, { recursive: true });
  const path = join(runDir, 'run.lock');
  // the pid is written to a private file first, then linked into place: the lock never exists without its pid
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path);
        return () => {
          try {
            if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path, { force: true });
          } catch {
            /* already gone */
          }
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let holder = NaN;
        try {
          holder = Number(readFileSync(path, 'utf8'));
        } catch {
          continue;
        } // released meanwhile: try again
        if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new RunInProgressError(run, holder);
        rmSync(path, { force: true }); // a stale lock (its process is gone): take it over
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new Error(`could not take the lock of run "${run}" (${path})`);
}

// What a long run reports as it goes: one task per stage, updated with done/total. The CLI draws bars from it,
// the run folder's progress file records it for the dashboard, tests pass silentProgress.
import { withStageClock } from './stageClock.js';

/** Progress of tasks; startedAt is when the task's work got a worker (its time, rate and ETA count from there). */
export interface ProgressReporter {
  task(label: string): {
    update(done: number, total: number, startedAt?: number): void;
    done(note?: string, startedAt?: number): void;
  };
}
export const silentProgress: ProgressReporter = { task: () => ({ update() {}, done() {} }) };

/** Runs `fn` as one progress task: live updates, then done or failed. */
export async function trackedTask<T>(
  progress: ProgressReporter,
  label: string,
  fn: (update: (d: number, t: number) => void) => Promise<T>,
): Promise<T> {
  const task = progress.task(label);
  return withStageClock(async (clock) => {
    try {
      const r = await fn((d, t) => task.update(d, t, clock.startedAt));
      task.done(undefined, clock.startedAt);
      return r;
    } catch (e) {
      task.done('failed', clock.startedAt);
      throw e;
    }
  });
}

// When a stage's work actually starts: stages queue for a worker thread (one per core), and
// their reported times, rates and ETAs should count from the moment a worker took them.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface StageClock {
  startedAt?: number;
  parent?: StageClock;
}
const current = new AsyncLocalStorage<StageClock>();

/** Runs `fn` with a fresh clock nested in the caller's (a task's clock starts with its first stage's). */
export function withStageClock<T>(fn: (clock: StageClock) => Promise<T>): Promise<T> {
  const clock: StageClock = { parent: current.getStore() };
  return current.run(clock, () => fn(clock));
}

/** Marks the current clocks started, if they are not yet (the worker pool calls it when a job gets a worker). */
export function markStageStarted(): void {
  const now = Date.now();
  for (let c = current.getStore(); c; c = c.parent) if (c.startedAt === undefined) c.startedAt = now;
}

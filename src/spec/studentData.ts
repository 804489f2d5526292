// Which rows each student learns: with `students.data: disjoint` student k learns the k-th of `seeds` equal,
// disjoint slices of its teacher's rows, so the students of a group replicate the whole generate -> filter ->
// train path instead of sharing one dataset. Pure.
import type { ExperimentSpec } from './schema.js';

/** Student k's share of a dataset: slice `index` of `of` equal parts, in row order. */
export interface RowSlice {
  index: number;
  of: number;
}

/** Into how many slices a teacher's rows are cut: one per student when the students' data are disjoint. */
export const rowSlices = (students: Pick<ExperimentSpec['students'], 'data' | 'seeds'>): number =>
  students.data === 'disjoint' ? students.seeds : 1;

/** How many passing rows the filter keeps: `rows` per student when the students' data are disjoint. */
export const rowsToKeep = (spec: ExperimentSpec): number => spec.data.rows * rowSlices(spec.students);

/** Student k's slice, or undefined when every student learns all of its teacher's rows. */
export const studentSlice = (spec: ExperimentSpec, k: number): RowSlice | undefined =>
  spec.students.data === 'disjoint' ? { index: k, of: spec.students.seeds } : undefined;

/** The rows of one slice (all of them without a slice); a dataset a defense shortened is cut in the same shares. */
export function sliceRows<T>(rows: readonly T[], slice: RowSlice | undefined): T[] {
  if (!slice) return [...rows];
  const start = Math.floor((rows.length * slice.index) / slice.of);
  const end = Math.floor((rows.length * (slice.index + 1)) / slice.of);
  return rows.slice(start, end);
}

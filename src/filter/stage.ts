// The filter stage: SPEC's number filter or a domain's filter and judge, then the seeded subsample.
import type { StageDef } from '../store/runStore.js';

export const filterStage: StageDef = {
  kind: 'filter',
  code: ['filter/numberRows.ts', 'filter/domainFilters.ts', 'judge/judges.ts'],
};

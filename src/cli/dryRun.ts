// The dry run's table: one row per stage group and base, totals, and what the estimates assume.
import type { ExperimentSpec } from '../spec/schema.js';
import { planExperiment } from '../pipeline/dryRun.js';
import { renderTable } from '../util/table.js';

export function dryRunText(spec: ExperimentSpec, json: boolean): string {
  const rows = planExperiment(spec);
  if (json) return JSON.stringify({ spec: spec.name, rows }, null, 2) + '\n';
  const n = (x: number): string => (x ? x.toLocaleString('en-US') : '');
  const usd = (x: number | undefined): string => (x === undefined ? '' : `$${x.toFixed(2)}`);
  const sum = (k: 'requests' | 'jobs' | 'inputTokens' | 'outputTokens' | 'trainingTokens'): number =>
    rows.reduce((t, r) => t + r[k], 0);
  const priced = rows.filter((r) => r.cost !== undefined);
  const table = renderTable(
    [
      'stage',
      'of',
      'base',
      'runs on',
      'models',
      'requests',
      'jobs',
      'input tokens',
      'output tokens',
      'training tokens',
      'cost',
    ],
    [
      ...rows.map((r) => [
        r.stage,
        r.what,
        r.model,
        r.runsOn,
        String(r.units),
        n(r.requests),
        n(r.jobs),
        n(r.inputTokens),
        n(r.outputTokens),
        n(r.trainingTokens),
        usd(r.cost),
      ]),
      [
        'total',
        '',
        '',
        '',
        n(sum('requests')),
        n(sum('jobs')),
        n(sum('inputTokens')),
        n(sum('outputTokens')),
        n(sum('trainingTokens')),
        priced.length ? usd(priced.reduce((t, r) => t + r.cost!, 0)) : '',
      ],
    ],
  );
  const dates = [...new Set(Object.values(spec.api.prices ?? {}).map((p) => p.asOf))];
  const unpriced = [
    ...new Set(rows.filter((r) => r.runsOn !== 'embedded' && r.cost === undefined).map((r) => r.runsOn)),
  ];
  return (
    `dry run of ${spec.name}: nothing was sent, trained or written\n\n${table}\n\n` +
    'API rows only count requests and tokens; embedded rows run on this machine. Tokens are estimated at 4 ' +
    'characters a token; output tokens assume every reply reaches its limit, so they and the cost are upper bounds.\n' +
    (dates.length ? `Prices from api.prices, read ${dates.join(', ')}.\n` : '') +
    (unpriced.length ? `No price for ${unpriced.join(', ')}: add it under api.prices to see a cost.\n` : '')
  );
}

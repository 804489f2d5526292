// The provenance graph of a run (base -> teacher -> dataset -> student) laid out in columns by
// depth and drawn with Vega-Lite: rules for edges, points for artifacts, text for names. Pure.
import { artifactMeta, type ArtifactRow, type EdgeRow } from '../store/index.js';
import type { Chart } from './charts.js';
import { ROLE_COLORS } from './vega.js';

export interface LineageNode {
  id: string;
  name: string;
  kind: string;
  role: string;
  depth: number;
  row: number;
}
export interface LineageLink {
  src: string;
  dst: string;
  relation: string;
  x: number;
  y: number;
  x2: number;
  y2: number;
}

const roleOf = (a: ArtifactRow): string => (artifactMeta(a).role as string | undefined) ?? a.kind;

/**
 * Columns by longest path from a root, rows in name order within a column. Evaluations are
 * leaves that would double the picture, so they are left out. `keep` limits the nodes shown
 * (MNIST runs hold hundreds of networks).
 */
export function layoutLineage(
  artifacts: readonly ArtifactRow[],
  edges: readonly EdgeRow[],
  keep: (a: ArtifactRow) => boolean = () => true,
): { nodes: LineageNode[]; links: LineageLink[] } {
  const shown = artifacts.filter((a) => a.kind !== 'evaluation' && keep(a));
  const ids = new Set(shown.map((a) => a.id));
  const used = edges.filter((e) => ids.has(e.src) && ids.has(e.dst) && e.src !== e.dst);
  const parents = new Map<string, string[]>();
  for (const e of used) parents.set(e.dst, [...(parents.get(e.dst) ?? []), e.src]);
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle would be a store bug; do not recurse forever
    seen.add(id);
    const d = Math.max(-1, ...(parents.get(id) ?? []).map((p) => depthOf(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  const byColumn = new Map<number, ArtifactRow[]>();
  for (const a of shown) {
    const d = depthOf(a.id, new Set());
    byColumn.set(d, [...(byColumn.get(d) ?? []), a]);
  }
  const nodes: LineageNode[] = [];
  for (const [d, column] of byColumn) {
    column.sort((a, b) => a.name.localeCompare(b.name));
    column.forEach((a, row) => nodes.push({ id: a.id, name: a.name, kind: a.kind, role: roleOf(a), depth: d, row }));
  }
  const at = new Map(nodes.map((n) => [n.id, n]));
  const links = used.map((e) => {
    const s = at.get(e.src)!;
    const t = at.get(e.dst)!;
    return { src: e.src, dst: e.dst, relation: e.relation, x: s.depth, y: s.row, x2: t.depth, y2: t.row };
  });
  return { nodes, links };
}

/** The report's role colours (models), and one more for datasets. */
const LINEAGE_COLORS = {
  domain: [...ROLE_COLORS.domain, 'dataset'],
  range: [...ROLE_COLORS.range, '#e45756'],
};

export function lineageChart(
  layout: { nodes: LineageNode[]; links: LineageLink[] },
  caption: string,
): Chart | undefined {
  if (!layout.nodes.length) return undefined;
  const rows = Math.max(...layout.nodes.map((n) => n.row)) + 1;
  const columns = Math.max(...layout.nodes.map((n) => n.depth)) + 1;
  // the experiment's roles in the report's colours (an MNIST run's roles keep Vega's)
  const known = layout.nodes.every((n) => LINEAGE_COLORS.domain.includes(n.role));
  // room right of the last column for its labels
  const x = { type: 'quantitative', axis: null, scale: { domain: [-0.2, columns + 0.1] } };
  const y = { type: 'quantitative', axis: null, scale: { domain: [rows - 0.5, -0.5] } };
  return {
    id: 'lineage',
    title: 'lineage',
    caption,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: Math.min(1000, Math.max(360, 180 * columns)), // fits a 1,400 px screen with its legend
      height: Math.max(80, 24 * rows),
      layer: [
        {
          name: 'lineage_edges',
          data: { values: layout.links },
          mark: { type: 'rule', color: '#999', tooltip: true },
          encoding: { x: { field: 'x', ...x }, y: { field: 'y', ...y }, x2: { field: 'x2' }, y2: { field: 'y2' } },
        },
        {
          name: 'lineage_nodes',
          data: { values: layout.nodes },
          mark: { type: 'point', filled: true, size: 90, tooltip: true },
          encoding: {
            x: { field: 'depth', ...x },
            y: { field: 'row', ...y },
            color: { field: 'role', type: 'nominal', title: 'artifact', ...(known ? { scale: LINEAGE_COLORS } : {}) },
            shape: { field: 'kind', type: 'nominal', title: 'kind' },
          },
        },
        {
          name: 'lineage_labels',
          data: { values: layout.nodes },
          mark: { type: 'text', align: 'left', dx: 8, fontSize: 10, limit: 190 },
          encoding: { x: { field: 'depth', ...x }, y: { field: 'row', ...y }, text: { field: 'name' } },
        },
      ],
    } as never,
  };
}

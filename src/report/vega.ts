// Charts are Vega-Lite specs rendered to SVG headless (no browser, no canvas): the same spec
// can later be embedded in an HTML report and rendered live.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Each group role's colour, shared by every chart that colours by role or arm. */
export const ROLE_COLORS = {
  domain: ['base', 'teacher', 'control', 'same-base', 'other-init', 'other-family', 'matched-control', 'generation'],
  range: ['#bab0ac', '#4c78a8', '#72b7b2', '#f58518', '#54a24b', '#b279a2', '#9d755d', '#e45756'],
};

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

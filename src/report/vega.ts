// Charts are Vega-Lite specs rendered to SVG headless (no browser, no canvas): the same spec
// can later be embedded in an HTML report and rendered live.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

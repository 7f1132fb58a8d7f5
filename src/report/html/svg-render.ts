// Vega-Lite spec → inline SVG, in Node: the page carries finished drawings and no script.
//
// Why SVG rendered here and not the vega runtime in the page (measured once on the mission run's report,
// bench/report-render.mjs): the SVG page is ≈0.1–0.2 MB and shows at once, with nothing to execute, so it
// prints and opens anywhere (mail, file viewers, browsers with scripts off); inlining vega + vega-lite
// adds ≈1.1 MB of minified script to every page and the browser must compile and render each chart when
// it opens (≈0.3–0.6 s on this machine), against ≈0.2–0.4 s once in Node when the report is written.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** Renders a Vega-Lite spec to an SVG document string (no XML declaration). */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const { spec: vgSpec } = compile(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A view inside a concatenation (the element type of hconcat/vconcat). */
export type SubSpec = Extract<ChartSpec, { hconcat: unknown }>['hconcat'][number];

// Vega-Lite spec → inline SVG, in Node: the page carries finished drawings and no script.
//
// Why SVG rendered here and not the vega runtime inlined in the page: measured once with
// bench/report-render.mjs on the randrw fixture (busy 2-core machine, medians of 5, alternating): the SVG
// page is 211 KiB against 814 KiB with vega + vega-lite inlined, and rendering costs about the same
// (1.2 s in Node when the report is written vs 0.9 s in Chromium, but on every opening). The SVG page
// also needs no script at all (its CSP forbids them), so it shows and prints the same in any viewer.
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

// Colours and the shared Vega-Lite config. Data colours are mid-tones readable on the light and the dark
// page; text, axes and grid take their colours from the page's CSS (see page.ts), so one SVG serves both
// colour schemes.
import type { Config } from 'vega-lite';

export const COLORS = {
  read: '#4c78a8',
  write: '#f58518',
  total: '#54a24b',
  poll: '#b279a2',
  interrupt: '#2ca6a4',
  adaptive: '#e45756',
} as const;

/** Runs in an overlay and cores in a utilization chart, in order. */
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#2ca6a4', '#54a24b', '#d4a72c', '#b279a2', '#ff9da6', '#9d755d', '#8c8c8c'];

export const DIRECTION_SCALE = { domain: ['read', 'write', 'total'], range: [COLORS.read, COLORS.write, COLORS.total] };

/** The direction colour scale limited to the series a chart draws (so the legend lists only those). */
export function directionScale(names: readonly ('read' | 'write' | 'total')[]): { domain: string[]; range: string[] } {
  return { domain: [...names], range: names.map((n) => COLORS[n]) };
}
export const MODE_SCALE = { domain: ['poll', 'interrupt', 'adaptive'], range: [COLORS.poll, COLORS.interrupt, COLORS.adaptive] };

/** The row's mode variant; comparisons written before adaptive mode existed have only `mode`. */
export function variantOf(r: { mode: string; variant?: string }): 'poll' | 'interrupt' | 'adaptive' {
  const v = r.variant ?? r.mode;
  return v === 'poll' || v === 'adaptive' ? v : 'interrupt';
}

/** Chart width in px: two side-by-side charts and their axes fit a 1280 px window. */
export const FULL_WIDTH = 1040;
export const HALF_WIDTH = 470;

export const CHART_CONFIG: Config = {
  background: 'transparent',
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridOpacity: 0.6 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'top', labelLimit: 400 },
  title: { fontSize: 13, anchor: 'start', fontWeight: 'bold' },
  line: { strokeWidth: 2 },
  point: { size: 30, filled: true },
};

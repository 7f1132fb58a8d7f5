// What every chart module returns: a Vega-Lite spec and the table of the numbers it draws.
import type { ChartSpec } from './svg-render.js';

/** One table cell: the text shown and, for numbers, the exact value it shows (data-value in the page). */
export interface Cell {
  text: string;
  value?: number;
}

export interface DataTable {
  columns: string[];
  rows: Cell[][];
}

export interface ChartSection {
  /** Stable id: the section's anchor and the table's data-chart attribute. */
  id: string;
  title: string;
  /** One sentence under the title: what is drawn, from which part of the result. */
  note?: string;
  spec: ChartSpec;
  table: DataTable;
}

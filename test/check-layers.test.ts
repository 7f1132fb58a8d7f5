// Layers point one way. Every relative import in src/ (type-only imports, re-exports, dynamic import()
// and `new URL('…', import.meta.url)` worker/entry references included) is checked against this order,
// lowest first; a directory may use only directories of a lower layer (and itself):
//
//   (root files: errors.ts, exit-codes.ts, version.ts) → native → nvme → util → rpc → transport
//     → host | target → launch → engine → report → cli
//
//   native     the C addon's typed wrapper            nvme       the spec: layouts, opcodes, status
//   util       small helpers (units, CRC, NQN…)       rpc        JSON-RPC 2.0 client/server plumbing
//   transport  transports behind one interface        host       initiator: controller, qpairs, queues
//   target     the built-in target (peer of host: neither imports the other)
//   launch     starting/stopping target processes     engine     the perf run: plans in, results out,
//                                                                 its worker threads included
//   report     result document, tables, writers       cli        commands: flags, printing, signals,
//                                                                 files, exit codes
//
// Fails on any upward or sideways import, on any import cycle between directories (type-only imports
// count) and on any import cycle between files at run time (type-only imports are erased, as in dist/;
// `madge --circular dist/` checks the same on the compiled code).
// Run: npm run check:layers (this file, then `madge --circular dist/`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAYERS: string[][] = [
  ['(root)'], ['native'], ['nvme'], ['util'], ['rpc'], ['transport'], ['host', 'target'], ['launch'], ['engine'],
  ['report'], ['cli'],
];
const rank = new Map<string, number>(LAYERS.flatMap((names, i) => names.map((n): [string, number] => [n, i])));

const SRC = resolve(fileURLToPath(new URL('../src', import.meta.url)));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Top-level directory of a file under src/ ("(root)" for files directly in src/). */
function dirOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length === 1 ? '(root)' : rel[0]!;
}

const SPEC = [
  /\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g,
  /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  /\bimport\s+['"](\.{1,2}\/[^'"]+)['"]/g,
  /new\s+URL\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g,
];

interface Edge { from: string; to: string; line: number; typeOnly: boolean }

/** `import type …`, `export type …`, or `import { type A, type B }` (every name a type): erased by tsc. */
function typeOnly(statement: string): boolean {
  if (/^\s*(import|export)\s+type\b/.test(statement)) return true;
  const names = /^\s*import\s*\{([^}]*)\}\s*from/.exec(statement);
  return names !== null && names[1]!.split(',').map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith('type '));
}

/** Relative imports of every file under src/, resolved to .ts files under src/. */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const re of SPEC) {
      for (const m of text.matchAll(re)) {
        const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
        if (!target.startsWith(SRC + sep)) continue; // ../../dist/cli/main.js and the like: not a source import
        const line = text.slice(0, m.index).split('\n').length;
        const stmtStart = Math.max(text.lastIndexOf(';', m.index) + 1, 0);
        edges.push({ from: file, to: target.endsWith('.ts') || target.endsWith('.json') ? target : `${target}.ts`, line,
          typeOnly: typeOnly(text.slice(stmtStart, m.index + m[0].length).replace(/^(\s*\/\/.*\n)+/, '')) });
      }
    }
  }
  return edges;
}

/** Strongly connected components with more than one node (or a self loop): the cycles. */
function cycles(nodes: string[], next: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || next.get(v)?.has(v)) out.push(comp.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}

const rel = (f: string): string => relative(SRC, f).split(sep).join('/');

describe('layers (src/)', () => {
  const edges = importEdges();

  it('every directory under src/ has a place in the layer order', () => {
    const dirs = new Set(tsFiles(SRC).map(dirOf));
    expect([...dirs].filter((d) => !rank.has(d))).toEqual([]);
  });

  it('no import points up or sideways in the layer order', () => {
    const bad = edges.filter((e) => {
      const a = dirOf(e.from), b = dirOf(e.to);
      return a !== b && !(rank.get(b)! < rank.get(a)!);
    }).map((e) => `src/${rel(e.from)}:${e.line} (${dirOf(e.from)}) imports src/${rel(e.to)} (${dirOf(e.to)})`);
    if (bad.length > 0) console.log(`upward or sideways imports:\n  ${bad.join('\n  ')}`);
    expect(bad).toEqual([]);
  });

  it('no import cycle between directories', () => {
    const next = new Map<string, Set<string>>();
    for (const e of edges) {
      const a = dirOf(e.from), b = dirOf(e.to);
      if (a === b) continue;
      if (!next.has(a)) next.set(a, new Set());
      next.get(a)!.add(b);
    }
    const found = cycles([...next.keys()], next);
    const summary = [...next.entries()].sort((x, y) => (rank.get(x[0]) ?? 99) - (rank.get(y[0]) ?? 99))
      .map(([d, to]) => `${d} → ${[...to].sort((x, y) => (rank.get(x) ?? 99) - (rank.get(y) ?? 99)).join(', ')}`);
    console.log(`directory imports (${edges.length} imports):\n  ${summary.join('\n  ')}\ndirectory cycles: ${found.length === 0 ? 'none' : found.map((c) => c.join(' ↔ ')).join('; ')}`);
    expect(found).toEqual([]);
  });

  it('no import cycle between files at run time', () => {
    const next = new Map<string, Set<string>>();
    for (const e of edges) {
      if (e.typeOnly) continue;
      if (!next.has(e.from)) next.set(e.from, new Set());
      next.get(e.from)!.add(e.to);
    }
    const found = cycles([...next.keys()], next).map((c) => c.map(rel).join(' ↔ '));
    console.log(`file cycles: ${found.length === 0 ? 'none' : found.join('; ')}`);
    expect(found).toEqual([]);
  });
});

// CRC32C throughput: the native addon (each of its paths the CPU has: VPCLMULQDQ folding with crc32
// streams alongside it (hybrid), the folding alone, the SSE4.2 instruction, the portable table),
// @node-rs/crc32 when installed, and a pure-JS table.
//
//   npx tsc -p tsconfig.json && node bench/crc32c.mjs [--ms 300]
//
// The slower native paths are measured in child processes started with NVMF_NATIVE_CRC32C=vpclmul,
// sse42 or table (the implementation is chosen once, when the addon is first loaded).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { native } from '../dist/native/index.js';

const SIZES = [
  [16 * 1024, '16 KiB'],
  [24, '24 B'],
  [4096, '4 KiB'],
  [128 * 1024, '128 KiB'],
  [1024 * 1024, '1 MiB'],
];
const msIdx = process.argv.indexOf('--ms');
const BUDGET_NS = (msIdx > 0 ? Number(process.argv[msIdx + 1]) : 300) * 1e6;

/** ns per call of fn(), measured for about BUDGET_NS after a calibration/warm-up round. */
function measure(fn) {
  let iters = 1;
  for (;;) {
    const t0 = native.monoNs();
    for (let i = 0; i < iters; i++) fn();
    const dt = native.monoNs() - t0;
    if (dt > 20e6) break;
    iters *= 2;
  }
  let calls = 0;
  const start = native.monoNs();
  let now = start;
  const batch = Math.max(1, iters >> 2);
  while (now - start < BUDGET_NS) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    now = native.monoNs();
  }
  return (now - start) / calls;
}

// Pure-JS byte-at-a-time table (Sarwate).
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[n] = c >>> 0;
}
function crc32cJs(buf, off, len) {
  let c = -1;
  for (let i = off, end = off + len; i < end; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function makeBuf(size) {
  const b = Buffer.allocUnsafe(size);
  let s = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s & 0xff;
  }
  return b;
}

// Child mode: only the native addon, print JSON { impl, ns: { size: nsPerCall } }.
if (process.argv.includes('--native-only')) {
  const ns = {};
  for (const [size] of SIZES) {
    const b = makeBuf(size);
    ns[size] = measure(() => native.crc32c(b, 0, size));
  }
  process.stdout.write(JSON.stringify({ impl: native.crc32cImpl, ns }));
  process.exit(0);
}

let nodeRs = null;
try {
  const mod = await import('@node-rs/crc32');
  nodeRs = mod.crc32c ?? mod.default?.crc32c ?? null;
} catch {
  nodeRs = null;
}

/** The addon with its implementation capped by NVMF_NATIVE_CRC32C=force, in a child; null if it failed. */
function forced(force) {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--native-only', '--ms', String(BUDGET_NS / 1e6)],
    { env: { ...process.env, NVMF_NATIVE_CRC32C: force }, encoding: 'utf8' },
  );
  return child.status === 0 ? JSON.parse(child.stdout) : null;
}
// Each distinct slower path this CPU has (a cap above what the CPU has falls back to the same path).
const slower = [];
for (const force of ['vpclmul', 'sse42', 'table']) {
  const run = forced(force);
  if (run && run.impl !== native.crc32cImpl && !slower.some((r) => r.impl === run.impl)) slower.push(run);
}

const rows = [];
for (const [size, label] of SIZES) {
  const b = makeBuf(size);
  const want = crc32cJs(b, 0, size);
  const got = native.crc32c(b, 0, size);
  if (got !== want) throw new Error(`native crc32c mismatch at ${label}: ${got} != ${want}`);
  const row = { label, size, results: [] };
  row.results.push([`native (${native.crc32cImpl})`, measure(() => native.crc32c(b, 0, size))]);
  for (const run of slower) row.results.push([`native (${run.impl})`, run.ns[size]]);
  if (nodeRs) {
    if (nodeRs(b) >>> 0 !== want) throw new Error(`@node-rs/crc32 mismatch at ${label}`);
    row.results.push(['@node-rs/crc32', measure(() => nodeRs(b))]);
  } else {
    row.results.push(['@node-rs/crc32', 'not installed']);
  }
  row.results.push(['pure JS (table)', measure(() => crc32cJs(b, 0, size))]);
  rows.push(row);
}

const gbps = (size, ns) => (size / ns).toFixed(2); // bytes per ns == GB/s
const fmtNs = (ns) => (ns >= 1e5 ? `${(ns / 1e3).toFixed(0)} us` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} us` : `${ns.toFixed(0)} ns`);
const header = ['size', 'implementation', 'per call', 'GB/s'];
const lines = [header];
for (const row of rows) {
  for (const [name, v] of row.results) {
    if (typeof v === 'number') lines.push([row.label, name, fmtNs(v), gbps(row.size, v)]);
    else lines.push([row.label, name, v ?? 'failed', '-']);
  }
}
const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
const out = lines.map((l) => l.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
console.log(`CRC32C, node ${process.version}, ${native.allowedCpus().length} CPUs, ~${BUDGET_NS / 1e6} ms per cell`);
console.log(out.join('\n'));

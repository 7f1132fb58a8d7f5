import { native } from '../dist/native/index.js';
// Shared helpers for bench scripts (plain ESM over the compiled dist/; run `npm run build` first).
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
export function argValue(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

/** Closed loop at `depth` for `sec` seconds; returns { iops, avgUs, cpuUsPerIo }. */
export function rawLoop(qp, nsInfo, depth, sec, seed = 1, ioSize = 4096) {
  const bs = nsInfo.blockSize;
  const blocks = ioSize / bs;
  const slots = Math.floor(nsInfo.sizeBlocks / blocks);
  const buf = new Uint8Array(depth * ioSize);
  const submitAt = new Float64Array(depth);
  const free = Array.from({ length: depth }, (_, i) => i);
  let x = seed >>> 0 || 1;
  let done = 0, latSum = 0, batchTs = 0;
  qp.onComplete = (tag, status) => {
    if (status !== 0) throw new Error(`I/O failed, status 0x${status.toString(16)}`);
    if (batchTs === 0) batchTs = native.monoNs();
    latSum += batchTs - submitAt[tag];
    done++;
    free.push(tag);
  };
  const t0 = native.monoNs(), c0 = native.threadCpuNs();
  const end = t0 + sec * 1e9;
  let now = t0;
  while (now < end) {
    while (free.length > 0) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      const tag = free.pop();
      const lba = ((x >>> 0) % slots) * blocks;
      if (!qp.submitRead(nsInfo.nsid, lba, blocks, bs, buf, tag * ioSize, tag)) { free.push(tag); break; }
      submitAt[tag] = now;
    }
    batchTs = 0;
    qp.processCompletions();
    now = native.monoNs();
  }
  const wall = now - t0, cpu = native.threadCpuNs() - c0;
  while (qp.outstanding > 0) { qp.processCompletions(); native.pollFd(qp.fd, 1, 10); }
  return { iops: done / (wall / 1e9), avgUs: latSum / done / 1000, cpuUsPerIo: cpu / 1000 / done };
}


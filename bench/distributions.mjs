// Cost of one offset draw per distribution over a 1 TiB range of 4 KiB slots (2^28), and the heap
// growth per draw (should be ~0: the hot path allocates nothing). Run `npm run build` first.
// Usage: node --expose-gc bench/distributions.mjs [--draws 5000000]
import { LbaGenerator } from '../dist/engine/lba-generator.js';
import { BlockSizeSplit } from '../dist/engine/bs-split.js';
import { Prng } from '../dist/engine/prng.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const draws = arg('draws', 5_000_000);
const blocks = 2 ** 40 / 4096;
const cases = [
  ['uniform', { kind: 'random', param: 0 }],
  ['zipf:1.2', { kind: 'zipf', param: 1.2 }],
  ['pareto:0.9', { kind: 'pareto', param: 0.9 }],
  ['normal:10', { kind: 'normal', param: 10 }],
];
const heap = () => { globalThis.gc?.(); return process.memoryUsage().heapUsed; };

for (const [name, d] of cases) {
  const g = new LbaGenerator(true, blocks, 4096, 4096, new Prng(1), { distribution: d });
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += g.next(); // warm the JIT
  const h0 = heap();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < draws; i++) sink += g.next();
  const ns = Number(process.hrtime.bigint() - t0) / draws;
  const h1 = heap();
  console.log(`${name.padEnd(11)} ${ns.toFixed(1).padStart(6)} ns/draw  heap ${((h1 - h0) / draws).toFixed(3)} B/draw  (${sink % 7})`);
}
const s = new BlockSizeSplit([{ bytes: 4096, percent: 50 }, { bytes: 65536, percent: 30 }, { bytes: 131072, percent: 20 }], 512, new Prng(2));
let sink = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < draws; i++) sink += s.next();
console.log(`bssplit(3)  ${(Number(process.hrtime.bigint() - t0) / draws).toFixed(1).padStart(6)} ns/draw  (${sink % 7})`);

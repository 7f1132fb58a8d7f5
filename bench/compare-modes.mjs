// Poll vs interrupt mode on the mission's workload (4 KiB randread QD32, 10 s each), then the same
// with a rate sweep. Prints the CLI's comparison tables.
//   node bench/compare-modes.mjs [--seconds 10] [--sweep 10,25,50,75,100] [--idle 5]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { argValue } from './lib.mjs';

const seconds = argValue('--seconds', '10');
const sweep = argValue('--sweep', '10,25,50,75,100');
const idle = argValue('--idle', '5');
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const base = ['-q', '32', '-s', '4096', '-w', 'randread', '-t', seconds, '-c', '0x1', '--no-progress', '--compare-modes', '--idle-time', idle];
for (const extra of [[], ['--rate-sweep', sweep]]) {
  console.log(`\n$ nvmf-perf ${[...base, ...extra].join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...base, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { console.error(`exit ${r.status}`); process.exitCode = 1; }
}

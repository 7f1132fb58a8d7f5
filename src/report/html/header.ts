// The header of a report: what ran (command line, host, targets, configuration), its totals and the
// warnings a reader must see first (rate not sustained, interrupted, partial).
import type { PerfResult } from '../result-types.js';
import { esc } from './escape.js';
import { fmt, usDecimals } from './format.js';
import { runFigures, runWarnings } from './run-figures.js';

/** Quotes an argument for a POSIX shell when it needs it. */
function shellArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function commandText(args: string[]): string {
  return ['nvmf-perf', ...args].map(shellArg).join(' ');
}

function dl(items: [string, string][]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

export function configText(r: PerfResult): string {
  const c = r.config;
  const parts = [`${c.pattern}${c.rwmixread > 0 && c.rwmixread < 100 ? ` (${c.rwmixread} % reads)` : ''}`,
    `${fmt(c.ioSize)} B I/O`, `queue depth ${c.ioDepth}`, `${c.numQpairs} qpair(s) per namespace per worker`,
    `cores ${c.cores.join(',')}`, `${c.timeSec} s${c.warmupSec ? ` + ${c.warmupSec} s warm-up` : ''}`, `${c.mode} mode`];
  if (c.rateIops > 0) parts.push(`open loop ${fmt(c.rateIops)} IOPS (${c.arrivals})`);
  if (c.headerDigest || c.dataDigest) parts.push(`digests:${c.headerDigest ? ' header' : ''}${c.dataDigest ? ' data' : ''}`);
  parts.push(`seed ${c.seed}`);
  return parts.join(' · ');
}

export function targetsText(r: PerfResult): string {
  return r.targets.map((t) => {
    const ns = t.namespaces.map((n) => `NSID ${n.nsid} ${fmt(n.sizeBytes / 2 ** 30, 2)} GiB/${n.blockSize} B`).join(', ');
    const launched = !t.launched ? '' : t.launched.kind === 'linux' ? ` — launched by nvmf-perf (${t.launched.namespace}, Linux kernel nvmet-tcp)`
      : ` — launched by nvmf-perf (${t.launched.namespace}, reactor core ${t.launched.reactorCores.join(',')}, ${t.launched.mode} mode)`;
    return `${t.subnqn} at ${t.trid.replace(/.*traddr:(\S+).*trsvcid:(\S+).*/, '$1:$2')} · ${t.mn.trim()} ${t.fr.trim()} · ${ns}${launched}`;
  }).join('\n') || '—';
}

export function warningsHtml(warnings: string[]): string {
  if (warnings.length === 0) return '';
  return `<ul class="warnings">${warnings.map((w) => `<li>⚠ ${esc(w)}</li>`).join('')}</ul>`;
}

/** Header of a one-run report. */
export function runHeader(r: PerfResult, label: string): string {
  const f = runFigures(r);
  const totals: [string, string][] = [
    ['IOPS', fmt(f.iops)], ['MiB/s', fmt(f.mibps, 1)], ['avg latency', `${fmt(f.avgUs, usDecimals(f.avgUs))} µs`],
    ['p50 / p99 / p99.9', `${fmt(f.p50Us, usDecimals(f.p50Us))} / ${fmt(f.p99Us, usDecimals(f.p99Us))} / ${fmt(f.p999Us, usDecimals(f.p999Us))} µs`],
    ['initiator', `${fmt(f.initiatorBusyPct, 1)} % busy · ${fmt(f.initiatorUsPerIo, 2)} µs CPU/IO`],
  ];
  if (f.targetUsPerIo !== undefined && r.targetCpu) totals.push(['target', `${fmt(r.targetCpu.cores, 2)} cores · ${fmt(f.targetUsPerIo, 2)} µs CPU/IO`]);
  return `<header>
<h1>nvmf-perf report: ${esc(label)}</h1>
${warningsHtml(runWarnings(r))}
${dl([
    ['command', commandText(r.commandLine)],
    ['started', `${r.timestamp} · ${fmt(r.durationSec, 2)} s measured · status ${r.status}`],
    ['host', `${r.host.hostname} · ${r.host.cpuModel} · ${r.host.cores} cores · ${r.host.platform} ${r.host.kernel} · Node ${r.host.node}`],
    ['target', targetsText(r)],
    ['configuration', configText(r)],
    ['tool', `${r.tool.name} ${r.tool.version}`],
  ])}
<div class="totals">${totals.map(([k, v]) => `<div><span>${esc(k)}</span><b>${esc(v)}</b></div>`).join('')}</div>
</header>`;
}

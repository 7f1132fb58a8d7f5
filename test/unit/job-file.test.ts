// Job files: fio syntax (sections, [global] inheritance, comments, ${VAR}, fio size suffixes and
// kb_base), fio option meanings → PerfConfig, and one `file:line: option: …` error for each mistake.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJobFile, JobFileError } from '../../src/cli/job-file.js';
import { jobToConfig, type JobRunContext } from '../../src/cli/job-options.js';
import { parseFioSize, parseFioTimeUs } from '../../src/cli/fio-units.js';
import { loadJobFiles } from '../../src/cli/run-command.js';
import { parseBsSplit, parseDistribution, parseRangeFlag } from '../../src/cli/workload-values.js';
import { parsePerfOptions } from '../../src/cli/perf-options.js';
import { parseSize } from '../../src/util/units.js';
import type { PerfConfig } from '../../src/engine/config.js';

const ctx: JobRunContext = { allowedCpus: [0, 1], commandLine: ['run', 'x.fio'], resultsDir: 'results', progress: false, sections: [] };

function configs(text: string, env: NodeJS.ProcessEnv = {}): PerfConfig[] {
  const jobs = parseJobFile(text, 'test.fio', env);
  return jobs.map((j) => jobToConfig(j, { ...ctx, sections: jobs.map((x) => x.name) }));
}

/** The error message a job file produces. */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    configs(text, env);
  } catch (e) {
    expect(e).toBeInstanceOf(JobFileError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('fio sizes and times', () => {
  it('kb_base=1024 (fio default): k/m/g are binary, ki/mi/gi decimal, case-insensitive, optional b', () => {
    expect(parseFioSize('4k', 1024)).toBe(4096);
    expect(parseFioSize('4K', 1024)).toBe(4096);
    expect(parseFioSize('4kb', 1024)).toBe(4096);
    expect(parseFioSize('4KB', 1024)).toBe(4096);
    expect(parseFioSize('1m', 1024)).toBe(1048576);
    expect(parseFioSize('1g', 1024)).toBe(2 ** 30);
    expect(parseFioSize('1t', 1024)).toBe(2 ** 40);
    expect(parseFioSize('1mi', 1024)).toBe(1_000_000);
    expect(parseFioSize('1000ki', 1024)).toBe(1_000_000);
    expect(parseFioSize('4096', 1024)).toBe(4096);
    expect(parseFioSize('4096b', 1024)).toBe(4096);
  });
  it('kb_base=1000: k/m/g decimal, ki/kib binary', () => {
    expect(parseFioSize('4k', 1000)).toBe(4000);
    expect(parseFioSize('4ki', 1000)).toBe(4096);
    expect(parseFioSize('4KiB', 1000)).toBe(4096);
    expect(parseFioSize('1m', 1000)).toBe(1_000_000);
    expect(parseFioSize('1mi', 1000)).toBe(1048576);
    expect(parseFioSize('1ti', 1000)).toBe(2 ** 40);
  });
  it('rejects malformed sizes', () => {
    for (const t of ['', 'k', '4x', '4 kk', '-4k', '4i']) expect(parseFioSize(t, 1024), t).toBeNull();
  });
  it('times: runtime defaults to seconds, thinktime to microseconds; m is minutes', () => {
    expect(parseFioTimeUs('30', 's')).toBe(30e6);
    expect(parseFioTimeUs('2m', 's')).toBe(120e6);
    expect(parseFioTimeUs('1h', 's')).toBe(3600e6);
    expect(parseFioTimeUs('500ms', 's')).toBe(500e3);
    expect(parseFioTimeUs('100', 'us')).toBe(100);
    expect(parseFioTimeUs('2ms', 'us')).toBe(2000);
    expect(parseFioTimeUs('3x', 's')).toBeNull();
  });
});

describe('job file syntax', () => {
  it('sections in order, [global] inherited and overridden, comments, bare flags', () => {
    const text = [
      '; a comment',
      '# another',
      '[global]',
      'iodepth=16   ; trailing comment',
      'bs=8k',
      'runtime=5',
      'time_based',
      '',
      '[first]',
      'rw=randread',
      '',
      '[second]',
      'rw=write',
      'iodepth=4',
      '[global]',
      'bs=64k',
      '[third]',
      'rw=read',
    ].join('\n');
    const jobs = parseJobFile(text, 'f.fio', {});
    expect(jobs.map((j) => [j.name, j.line])).toEqual([['first', 9], ['second', 12], ['third', 17]]);
    const c = jobs.map((j) => jobToConfig(j, { ...ctx, sections: jobs.map((x) => x.name) }));
    expect(c.map((x) => [x.pattern, x.ioDepth, x.ioSize, x.timeSec])).toEqual([
      ['randread', 16, 8192, 5], ['write', 4, 8192, 5], ['read', 16, 65536, 5],
    ]);
    expect(c[1]!.workload).toEqual({ file: 'f.fio', section: 'second', sections: ['first', 'second', 'third'] });
  });

  it('${VAR} comes from the environment', () => {
    const [c] = configs('[j]\nrw=randread\nbs=${BS}\niodepth=${QD}\nruntime=1\n', { BS: '16k', QD: '8' });
    expect(c!.ioSize).toBe(16384);
    expect(c!.ioDepth).toBe(8);
  });

  it('filename as a path is a local device; a PCIe TRID stays a transport ID', () => {
    const [c] = configs('[j]\nruntime=1\nfilename=/dev/nvme0n1\n');
    expect([c!.devices, c!.transportIds]).toEqual([['/dev/nvme0n1'], []]);
    const [d] = configs('[j]\nruntime=1\nfilename=trtype:PCIe traddr:0000:04:00.0\n');
    expect([d!.devices, d!.transportIds]).toEqual([undefined, ['trtype:PCIe traddr:0000:04:00.0']]);
  });

  it('fio defaults: rw=read, bs=4k, iodepth=1, numjobs=1, percentiles on', () => {
    const [c] = configs('[j]\nruntime=2\n');
    expect([c!.pattern, c!.ioSize, c!.ioDepth, c!.cores, c!.rwmixread, c!.latencyTracking]).toEqual(['read', 4096, 1, [0], 100, 1]);
  });

  it('fio options map to the engine config', () => {
    const [c] = configs([
      '[j]', 'readwrite=randrw', 'rwmixwrite=30', 'bssplit=4k/50:64k/:128k/', 'numjobs=2', 'cpus_allowed=1',
      'runtime=1m', 'ramp_time=2', 'size=50%', 'offset=1g', 'random_distribution=zipf:1.2', 'rate_iops=1000',
      'verify=crc32c', 'randseed=42', 'filename=trtype=tcp adrfam=IPv4 traddr=127.0.0.1 trsvcid=4420 subnqn=nqn.2016-06.io.spdk:cnode1',
      'header_digest=1', 'data_digest=1', 'qpairs=2', 'mode=interrupt', 'arrivals=poisson', 'lat_histogram=1', 'stonewall',
    ].join('\n'));
    expect(c!.pattern).toBe('randrw');
    expect(c!.rwmixread).toBe(70);
    expect(c!.bssplit).toEqual([{ bytes: 4096, percent: 50 }, { bytes: 65536, percent: 25 }, { bytes: 131072, percent: 25 }]);
    expect(c!.ioSize).toBe(131072);
    expect(c!.cores).toEqual([1, 1]);
    expect(c!.timeSec).toBe(60);
    expect(c!.warmupSec).toBe(2);
    expect(c!.range).toEqual({ offset: { bytes: 2 ** 30 }, size: { percent: 50 } });
    expect(c!.distribution).toEqual({ kind: 'zipf', param: 1.2 });
    expect(c!.rateIops).toBe(2000); // fio's rate_iops is per job clone
    expect(c!.verify).toBe(true);
    expect(c!.seed).toBe(42);
    expect(c!.transportIds).toEqual(['trtype=tcp adrfam=IPv4 traddr=127.0.0.1 trsvcid=4420 subnqn=nqn.2016-06.io.spdk:cnode1']);
    expect([c!.hdgst, c!.ddgst, c!.numQpairs, c!.mode, c!.arrivals, c!.latencyTracking]).toEqual([true, true, 2, 'interrupt', 'poisson', 2]);
  });

  it('thinktime in µs by default; numjobs spreads over the allowed cores', () => {
    const [c] = configs('[j]\nruntime=1\nthinktime=2ms\nnumjobs=3\n');
    expect(c!.thinktimeUs).toBe(2000);
    expect(c!.cores).toEqual([0, 1, 0]);
  });

  it('kb_base applies to every size of the job', () => {
    const [c] = configs('[global]\nkb_base=1000\n[j]\nruntime=1\nbs=4ki\nsize=1m\n');
    expect(c!.ioSize).toBe(4096);
    expect(c!.range).toEqual({ offset: { bytes: 0 }, size: { bytes: 1_000_000 } });
  });
});

describe('job file errors name file:line and the option', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown option', '[j]\nruntime=1\nfoo=1\n', /^test\.fio:3: unknown or unsupported option "foo"/],
    ['ioengine', '[j]\nruntime=1\nioengine=libaio\n', /^test\.fio:3: ioengine: .*own NVMe\/TCP initiator/],
    ['bad size', '[j]\nruntime=1\nbs=4q\n', /^test\.fio:3: bs: "4q" is not a size/],
    ['bad rw', '[j]\nruntime=1\nrw=trim\n', /^test\.fio:3: rw: "trim" is not supported/],
    ['rw offset modifier', '[j]\nruntime=1\nrw=randread:8\n', /^test\.fio:3: rw: .*":N" offset modifier/],
    ['separate bs', '[j]\nruntime=1\nbs=4k,8k\n', /^test\.fio:3: bs: separate read\/write block sizes/],
    ['iodepth 0', '[j]\nruntime=1\niodepth=0\n', /^test\.fio:3: iodepth: expected an integer from 1 to 65536, got "0"/],
    ['time_based=0', '[j]\nruntime=1\ntime_based=0\n', /^test\.fio:3: time_based: .*always time based/],
    ['no runtime', '[global]\nbs=4k\n\n[j]\nrw=read\n', /^test\.fio:4: \[j\]: runtime is required/],
    ['bad runtime', '[j]\nruntime=soon\n', /^test\.fio:2: runtime: "soon" is not a time/],
    ['verify=md5', '[j]\nruntime=1\nverify=md5\n', /^test\.fio:3: verify: "md5" is not supported/],
    ['bssplit over 100', '[j]\nruntime=1\nbssplit=4k/60:8k/50\n', /^test\.fio:3: bssplit: the shares add up to 110 %/],
    ['bs and bssplit', '[j]\nruntime=1\nbs=4k\nbssplit=4k/100\n', /^test\.fio:4: bssplit: give bs or bssplit, not both/],
    ['zipf without value', '[j]\nruntime=1\nrw=randread\nrandom_distribution=zipf\n', /^test\.fio:4: random_distribution: zipf needs a value/],
    ['zoned', '[j]\nruntime=1\nrandom_distribution=zoned:60/10:40/90\n', /^test\.fio:3: random_distribution: "zoned" is not supported/],
    ['pareto out of range', '[j]\nruntime=1\nrandom_distribution=pareto:1.5\n', /^test\.fio:3: random_distribution: pareto h "1.5"/],
    ['distribution on sequential', '[j]\nruntime=1\nrw=read\nrandom_distribution=zipf:1.1\n', /^test\.fio:4: random_distribution: applies to random patterns/],
    ['rwmix on read', '[j]\nruntime=1\nrw=read\nrwmixread=70\n', /^test\.fio:4: rwmixread: applies only to rw and randrw/],
    ['cpus not allowed', '[j]\nruntime=1\ncpus_allowed=7\n', /^test\.fio:3: cpus_allowed: core 7 is not available/],
    ['bad filename', '[j]\nruntime=1\nfilename=nvme0n1\n', /^test\.fio:3: filename: "nvme0n1" is not a transport ID/],
    ['kb_base 1023', '[j]\nruntime=1\nkb_base=1023\n', /^test\.fio:3: kb_base: expected 1000 or 1024/],
    ['unset variable', '[j]\nruntime=${NOPE}\n', /^test\.fio:2: environment variable NOPE is not set/],
    ['option before a section', 'bs=4k\n[j]\nruntime=1\n', /^test\.fio:1: option "bs" before any section/],
    ['malformed header', '[j\nruntime=1\n', /^test\.fio:1: malformed section header/],
    ['not an option', '[j]\nruntime=1\nthis is text\n', /^test\.fio:3: "this is text" is not an option/],
    ['include', '[j]\ninclude other.fio\n', /^test\.fio:2: "include" is not supported/],
    ['no job', '[global]\nbs=4k\n', /^test\.fio:3: no job section/],
    ['arrivals without rate', '[j]\nruntime=1\narrivals=poisson\n', /^test\.fio:3: arrivals: needs rate_iops/],
    ['bad mode', '[j]\nruntime=1\nmode=spin\n', /^test\.fio:3: mode: expected poll or interrupt/],
  ];
  it.each(cases)('%s', (_name, text, re) => {
    expect(errorOf(text)).toMatch(re);
  });
});

describe('nvmf-perf run: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvmf-perf-jobs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('a missing file is one line naming it; --runtime replaces every runtime; all files and jobs in order', () => {
    expect(() => loadJobFiles([join(dir, 'none.fio')], {}, [0, 1], [])).toThrow(/none\.fio: cannot read the job file \(ENOENT\)/);
    const a = join(dir, 'a.fio'), b = join(dir, 'b.fio');
    writeFileSync(a, '[x]\nruntime=30\n[y]\nruntime=40\n');
    writeFileSync(b, '[z]\nrw=randwrite\nruntime=50\n');
    const cs = loadJobFiles([a, b], { runtime: '1' }, [0, 1], []);
    expect(cs.map((c) => [c.workload!.section, c.timeSec])).toEqual([['x', 1], ['y', 1], ['z', 1]]);
    expect(() => loadJobFiles([a], { runtime: '0' }, [0, 1], [])).toThrow(/--runtime: expected whole seconds/);
  });
});

describe('workload flags', () => {
  it('--bssplit, --random-distribution, --range, --verify', () => {
    const c = parsePerfOptions({ ioDepth: '4', ioPattern: 'randrw', bssplit: '4k/70:64k/30', randomDistribution: 'pareto:0.9',
      range: '10%:1GiB', verify: true }, [0, 1], []);
    expect(c.ioSize).toBe(65536);
    expect(c.bssplit).toEqual([{ bytes: 4096, percent: 70 }, { bytes: 65536, percent: 30 }]);
    expect(c.distribution).toEqual({ kind: 'pareto', param: 0.9 });
    expect(c.range).toEqual({ offset: { percent: 10 }, size: { bytes: 2 ** 30 } });
    expect(c.verify).toBe(true);
  });
  it('one-line errors naming the flag', () => {
    const base = { ioDepth: '4', ioPattern: 'randread' };
    expect(() => parsePerfOptions({ ...base, ioSize: '4k', bssplit: '4k/100' }, [0], [])).toThrow(/^--bssplit sets the I\/O sizes: drop -s/);
    expect(() => parsePerfOptions({ ...base, bssplit: '4k/50:8k/40' }, [0], [])).toThrow(/^--bssplit "4k\/50:8k\/40": the shares add up to 90 %, not 100/);
    expect(() => parsePerfOptions({ ...base, ioSize: '4k', randomDistribution: 'zipf:-1' }, [0], [])).toThrow(/^--random-distribution "zipf:-1": zipf θ/);
    expect(() => parsePerfOptions({ ...base, ioSize: '4k', range: '1GiB' }, [0], [])).toThrow(/^--range "1GiB": .*OFFSET:LENGTH/);
  });
  it('value parsers', () => {
    expect(parseBsSplit('4k/50:1k/:32k/', parseSize)).toEqual([{ bytes: 4096, percent: 50 }, { bytes: 1024, percent: 25 }, { bytes: 32768, percent: 25 }]);
    expect(parseBsSplit('1000/100', parseSize)).toMatch(/not a multiple of 512/);
    expect(parseDistribution('normal:5:0.25')).toEqual({ kind: 'normal', param: 5, center: 0.25 });
    expect(parseDistribution('gauss:5')).toEqual({ kind: 'normal', param: 5 });
    expect(parseDistribution('zipf:1.2:0.5')).toMatch(/centre .* applies only to normal/);
    expect(parseRangeFlag('1GiB:', parseSize)).toEqual({ offset: { bytes: 2 ** 30 } });
    expect(parseRangeFlag('0:0', parseSize)).toBe('the length is 0');
  });
});

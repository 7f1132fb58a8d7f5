// Core masks as spdk_nvme_perf takes them: hex "0x3" or lists/ranges "0-1,3".

/** Returns the CPU numbers, ascending and unique, or an error message. */
export function parseCoreMask(text: string): number[] | string {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) {
    const v = BigInt(t);
    if (v === 0n) return 'the mask selects no core';
    const cores: number[] = [];
    for (let i = 0; (v >> BigInt(i)) !== 0n; i++) if (((v >> BigInt(i)) & 1n) === 1n) cores.push(i);
    return cores;
  }
  const s = t.replace(/^\[|\]$/g, '');
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) return 'expected a hex mask like 0x3 or a list like 0-1,3';
  const set = new Set<number>();
  for (const part of s.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const hi = b ?? a;
    if (hi < a) return `range ${part} is reversed`;
    if (hi > 4095) return `core ${hi} is out of range`;
    for (let c = a; c <= hi; c++) set.add(c);
  }
  return [...set].sort((x, y) => x - y);
}

export function formatCoreList(cores: number[]): string {
  return cores.join(',');
}

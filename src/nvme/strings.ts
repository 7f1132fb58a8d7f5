// Fixed-width string fields: ASCII space-padded (SN/MN/FR) and NUL-padded (NQNs, TRSVCID, TRADDR).

export function writeSpacePadded(u8: Uint8Array, off: number, width: number, s: string): void {
  for (let i = 0; i < width; i++) u8[off + i] = i < s.length ? s.charCodeAt(i) & 0x7f : 0x20;
}

export function writeNulPadded(u8: Uint8Array, off: number, width: number, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > width) throw new RangeError(`string of ${bytes.length} bytes does not fit a ${width}-byte field`);
  u8.fill(0, off, off + width);
  u8.set(bytes, off);
}

/** Reads a fixed-width field, stopping at the first NUL and trimming trailing spaces. */
export function readFixedString(u8: Uint8Array, off: number, width: number): string {
  let end = off;
  const max = off + width;
  while (end < max && u8[end] !== 0) end++;
  return Buffer.from(u8.buffer, u8.byteOffset + off, end - off).toString('utf8').replace(/ +$/, '');
}

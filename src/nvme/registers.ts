// Controller properties (registers) as seen over Fabrics Property Get/Set.

export const PropertyOffset = { CAP: 0x00, VS: 0x08, CC: 0x14, CSTS: 0x1c, NSSR: 0x20, CRTO: 0x68 } as const;

/** Size in bytes of each property (Property Get ATTRIB bits 2:0: 0 = 4 bytes, 1 = 8 bytes). */
export function propertySize(offset: number): 4 | 8 | 0 {
  switch (offset) {
    case PropertyOffset.CAP: return 8;
    case PropertyOffset.VS: case PropertyOffset.CC: case PropertyOffset.CSTS: return 4;
    default: return 0;
  }
}

export interface Cap {
  /** Maximum queue entries supported, 0's based (bits 15:0). */
  mqes: number;
  /** Contiguous queues required (bit 16). */
  cqr: boolean;
  /** Ready timeout in 500 ms units (bits 31:24). */
  to: number;
  /** Doorbell stride (bits 35:32). */
  dstrd: number;
  /** Command sets supported (bits 44:37). Bit 0 = NVM. */
  css: number;
  /** Memory page size minimum / maximum: 2^(12+n) (bits 51:48, 55:52). */
  mpsmin: number;
  mpsmax: number;
}

export function encodeCap(c: Cap): bigint {
  return BigInt(c.mqes & 0xffff)
    | (BigInt(c.cqr ? 1 : 0) << 16n)
    | (BigInt(c.to & 0xff) << 24n)
    | (BigInt(c.dstrd & 0xf) << 32n)
    | (BigInt(c.css & 0xff) << 37n)
    | (BigInt(c.mpsmin & 0xf) << 48n)
    | (BigInt(c.mpsmax & 0xf) << 52n);
}

export function decodeCap(v: bigint): Cap {
  return {
    mqes: Number(v & 0xffffn),
    cqr: ((v >> 16n) & 1n) === 1n,
    to: Number((v >> 24n) & 0xffn),
    dstrd: Number((v >> 32n) & 0xfn),
    css: Number((v >> 37n) & 0xffn),
    mpsmin: Number((v >> 48n) & 0xfn),
    mpsmax: Number((v >> 52n) & 0xfn),
  };
}

/** VS: bits 31:16 major, 15:8 minor, 7:0 tertiary. */
export function encodeVersion(major: number, minor: number, tertiary = 0): number {
  return ((major << 16) | (minor << 8) | tertiary) >>> 0;
}
export function formatVersion(vs: number): string {
  const t = vs & 0xff;
  return `${vs >>> 16}.${(vs >>> 8) & 0xff}${t ? '.' + t : ''}`;
}

/** CC fields. */
export const Cc = {
  EN: 1 << 0,
  CSS_SHIFT: 4,
  MPS_SHIFT: 7,
  AMS_SHIFT: 11,
  SHN_SHIFT: 14,
  SHN_MASK: 3 << 14,
  SHN_NORMAL: 1,
  SHN_ABRUPT: 2,
  IOSQES_SHIFT: 16,
  IOCQES_SHIFT: 20,
} as const;

/** CC value a host writes: IOSQES 6 (64 B), IOCQES 4 (16 B), MPS 0, AMS 0, CSS NVM. */
export function hostCcValue(enable: boolean): number {
  return ((6 << Cc.IOSQES_SHIFT) | (4 << Cc.IOCQES_SHIFT) | (enable ? Cc.EN : 0)) >>> 0;
}

export function ccShn(cc: number): number { return (cc >>> Cc.SHN_SHIFT) & 3; }
export function ccIosqes(cc: number): number { return (cc >>> Cc.IOSQES_SHIFT) & 0xf; }
export function ccIocqes(cc: number): number { return (cc >>> Cc.IOCQES_SHIFT) & 0xf; }

/** CSTS fields: RDY bit 0, CFS bit 1, SHST bits 3:2 (0 normal, 1 in progress, 2 complete). */
export const Csts = { RDY: 1, CFS: 2, SHST_SHIFT: 2, SHST_COMPLETE: 2 } as const;
export function cstsShst(csts: number): number { return (csts >>> Csts.SHST_SHIFT) & 3; }

// NVM I/O commands on I/O queues: Read, Write, Flush, Write Zeroes, Dataset Management.
// The hot path: fields are read in place from the receive buffer, reads are copied from the
// namespace straight into the connection's send buffer, writes straight from the receive buffer
// into the namespace; nothing is allocated per command.
import { NvmOpcode } from '../nvme/opcodes.js';
import type { TcpConnection } from './connection.js';
import type { NamespaceBackend } from './namespace.js';
import { ST } from './status-codes.js';

const TWO32 = 4294967296;

/** SLBA/NLB/byte length of the command checked by lbaRange (module-level: nothing allocated per command). */
const range = { slba: 0, nlb: 0, len: 0 };

/**
 * The namespace and LBA range of a Read/Write/Write Zeroes (NSID at byte 4, SLBA at CDW10..11, NLB 0's
 * based at CDW12), and for data commands the SGL length (byte 32), which must equal NLB × block size.
 * Fills `range`; on a bad field responds with its status and returns undefined.
 */
function lbaRange(c: TcpConnection, ns: NamespaceBackend | undefined, dv: DataView, s: number, cid: number,
  sglMustMatch: boolean): NamespaceBackend | undefined {
  if (ns === undefined) { c.respond(cid, ST.INVALID_NS); return undefined; }
  range.nlb = dv.getUint16(s + 48, true) + 1;
  range.slba = dv.getUint32(s + 40, true) + dv.getUint32(s + 44, true) * TWO32;
  if (range.slba + range.nlb > ns.blocks) { c.respond(cid, ST.LBA_OUT_OF_RANGE); return undefined; }
  range.len = range.nlb * ns.blockSize;
  if (sglMustMatch && dv.getUint32(s + 32, true) !== range.len) { c.respond(cid, ST.SGL_LENGTH_INVALID); return undefined; }
  return ns;
}

export function handleIo(c: TcpConnection, b: Uint8Array, dv: DataView, s: number,
  data: Uint8Array | null, dOff: number, dLen: number): void {
  const opc = b[s]!;
  const cid = dv.getUint16(s + 2, true);
  const nsid = dv.getUint32(s + 4, true);
  const sub = c.subsys!;
  switch (opc) {
    case NvmOpcode.Read: {
      const ns = lbaRange(c, sub.ns[nsid - 1], dv, s, cid, true);
      if (ns === undefined) return;
      const slba = range.slba, len = range.len;
      const success = c.sqFlowOff;
      const d = c.beginC2HData(cid, len, success);
      try {
        ns.read(c.out, d, slba * ns.blockSize, len);
      } catch (e) {
        c.ctx.log('warn', `${c.describe()}: read failed: ${(e as Error).message}`);
        c.respond(cid, ST.UNRECOVERED_READ);
        return;
      }
      c.endC2HData(d, len);
      if (!success) c.respond(cid, ST.OK);
      const k = c.ctx.counters;
      k.readCmds++;
      k.readUnits += len / 512;
      return;
    }
    case NvmOpcode.Write: {
      const ns = lbaRange(c, sub.ns[nsid - 1], dv, s, cid, true);
      if (ns === undefined) return;
      const slba = range.slba, len = range.len;
      if (data === null) {
        c.startWriteR2T(cid, nsid - 1, slba * ns.blockSize, len);
        return;
      }
      if (dLen !== len) { c.respond(cid, ST.SGL_LENGTH_INVALID); return; }
      try {
        ns.write(data, dOff, slba * ns.blockSize, len);
      } catch (e) {
        c.ctx.log('warn', `${c.describe()}: write failed: ${(e as Error).message}`);
        c.respond(cid, ST.WRITE_FAULT);
        return;
      }
      c.respond(cid, ST.OK);
      const k = c.ctx.counters;
      k.writeCmds++;
      k.writeUnits += len / 512;
      return;
    }
    case NvmOpcode.Flush: {
      try {
        if (nsid === 0xffffffff) {
          for (const n of sub.ns) n.flush();
        } else {
          const ns = sub.ns[nsid - 1];
          if (ns === undefined) { c.respond(cid, ST.INVALID_NS); return; }
          ns.flush();
        }
      } catch (e) {
        c.ctx.log('warn', `${c.describe()}: flush failed: ${(e as Error).message}`);
        c.respond(cid, ST.WRITE_FAULT);
        return;
      }
      c.respond(cid, ST.OK);
      return;
    }
    case NvmOpcode.WriteZeroes: {
      const ns = lbaRange(c, sub.ns[nsid - 1], dv, s, cid, false);
      if (ns === undefined) return;
      if (!zeroRange(c, ns, range.slba, range.nlb)) return void c.respond(cid, ST.WRITE_FAULT);
      c.respond(cid, ST.OK);
      return;
    }
    case NvmOpcode.DatasetManagement: {
      const ns = sub.ns[nsid - 1];
      if (ns === undefined) { c.respond(cid, ST.INVALID_NS); return; }
      const nr = b[s + 40]! + 1;
      const attr = dv.getUint32(s + 44, true);
      if (data === null || dLen !== nr * 16) { c.respond(cid, ST.SGL_LENGTH_INVALID); return; }
      // Deallocate (AD). File namespaces ignore it (DLFEAT 0: contents of deallocated blocks are
      // unspecified): zero-writing a whole file on a host's full-device discard would stall the reactor.
      if ((attr & 0x4) !== 0 && ns.kind !== 'file') {
        const ddv = data === b ? dv : new DataView(data.buffer, data.byteOffset, data.byteLength);
        // Check every range first: a bad range fails the command without touching the others.
        for (let i = 0; i < nr; i++) {
          const o = dOff + i * 16;
          const n = ddv.getUint32(o + 4, true);
          const lba = ddv.getUint32(o + 8, true) + ddv.getUint32(o + 12, true) * TWO32;
          if (lba + n > ns.blocks) { c.respond(cid, ST.LBA_OUT_OF_RANGE); return; }
        }
        for (let i = 0; i < nr; i++) {
          const o = dOff + i * 16;
          const n = ddv.getUint32(o + 4, true);
          const lba = ddv.getUint32(o + 8, true) + ddv.getUint32(o + 12, true) * TWO32;
          if (n > 0 && !zeroRange(c, ns, lba, n)) { c.respond(cid, ST.WRITE_FAULT); return; }
        }
      }
      c.respond(cid, ST.OK);
      return;
    }
    default:
      c.respond(cid, ST.INVALID_OPCODE);
  }
}

/** Deallocated / zeroed blocks read back as zeroes (Identify Namespace DLFEAT = 1). */
function zeroRange(c: TcpConnection, ns: NamespaceBackend, slba: number, nlb: number): boolean {
  try {
    ns.zero(slba * ns.blockSize, nlb * ns.blockSize);
    return true;
  } catch (e) {
    c.ctx.log('warn', `${c.describe()}: zeroing failed: ${(e as Error).message}`);
    return false;
  }
}

// NVM I/O commands on I/O queues: Read, Write, Flush, Write Zeroes, Dataset Management.
// File namespaces with a reactor io_uring (file-io-ring.ts): Read, Write and Flush of one namespace
// become SQEs answered on their CQE; Write Zeroes, Deallocate and a Flush of all namespaces stay
// synchronous.
// The hot path: fields are read in place from the request's SQE, reads are sent from the namespace's
// memory by reference (or copied out of a file namespace), writes land in the namespace; nothing is
// allocated per command.
import { DSM_RANGE_SIZE, dsmRangeNlb, dsmRangeSlba } from '../nvme/dsm.js';
import { NvmOpcode } from '../nvme/opcodes.js';
import { sqeCdw10, sqeCdw11, sqeNlb, sqeNsid, sqeOpc, sqeSglLen, sqeSlba } from '../nvme/sqe.js';
import type { FileNamespace, NamespaceBackend } from './namespace.js';
import { native } from '../native/index.js';
import type { TargetRequest } from './request.js';
import { ST } from './status-codes.js';

/** SLBA/NLB/byte length of the command checked by lbaRange (module-level: nothing allocated per command). */
const range = { slba: 0, nlb: 0, len: 0 };

/** Read data that cannot be referenced (file namespaces, a RAM range across chunks) is read here first. */
let readStage = new Uint8Array(0);

/**
 * The namespace and LBA range of a Read/Write/Write Zeroes (NSID, SLBA, NLB), and for data commands the
 * SGL length, which must equal NLB × block size. Fills `range`; on a bad field completes the request
 * with its status and returns undefined.
 */
function lbaRange(req: TargetRequest, ns: NamespaceBackend | undefined, sglMustMatch: boolean): NamespaceBackend | undefined {
  if (ns === undefined) { req.complete(ST.INVALID_NS); return undefined; }
  const dv = req.sqv;
  range.nlb = sqeNlb(dv, 0);
  range.slba = sqeSlba(dv, 0);
  if (range.slba + range.nlb > ns.blocks) { req.complete(ST.LBA_OUT_OF_RANGE); return undefined; }
  range.len = range.nlb * ns.blockSize;
  if (sglMustMatch && sqeSglLen(dv, 0) !== range.len) { req.complete(ST.SGL_LENGTH_INVALID); return undefined; }
  return ns;
}

export function handleIo(req: TargetRequest): void {
  const q = req.queue;
  const dv = req.sqv;
  const opc = sqeOpc(dv, 0);
  const nsid = sqeNsid(dv, 0);
  const sub = q.subsys!;
  const control = q.ctx.control;
  if (control.takeHold()) { q.hold(req, control.holdAbortable); return; } // test knob: no answer
  switch (opc) {
    case NvmOpcode.Read: {
      const ns = lbaRange(req, sub.ns[nsid - 1], true);
      if (ns === undefined) return;
      const byteOff = range.slba * ns.blockSize, len = range.len;
      const ring = q.ctx.fileRing;
      if (ring !== null && ns.kind === 'file' && len <= ring.slotBytes) {
        const s = ring.take();
        if (s >= 0) { ring.read(s, req, (ns as FileNamespace).fileDescriptor, byteOff, len); return; } // answered on its CQE
        // Every ring slot busy: this one read goes synchronous.
      }
      const mem = ns.locate(byteOff, len);
      if (mem === null) {
        // Not one piece of memory: read into a stage buffer (the send queue copies it, so it can be reused).
        if (readStage.length < len) readStage = new Uint8Array(len);
        try {
          ns.read(readStage, 0, byteOff, len);
        } catch (e) {
          q.ctx.log('warn', `${q.describe()}: read failed: ${(e as Error).message}`);
          req.complete(ST.UNRECOVERED_READ);
          return;
        }
        q.sendData(req, readStage, 0, len, false);
        req.complete(ST.OK);
      } else {
        q.completeRead(req, mem, ns.refOff, len, ns.readMemory);
      }
      const k = q.ctx.counters;
      k.readCmds++;
      k.readUnits += len / 512;
      return;
    }
    case NvmOpcode.Write: {
      const ns = lbaRange(req, sub.ns[nsid - 1], true);
      if (ns === undefined) return;
      const byteOff = range.slba * ns.blockSize, len = range.len;
      if (req.data === null) {
        q.receiveWrite(req, ns, byteOff, len);
        return;
      }
      if (req.dataLen !== len) { req.complete(ST.SGL_LENGTH_INVALID); return; }
      const ring = q.ctx.fileRing;
      if (ring !== null && ns.kind === 'file' && len <= ring.slotBytes) { // (in-capsule data may exceed MDTS)
        const s = ring.take();
        if (s >= 0) {
          // In-capsule data lives in the receive buffer, which the next PDU overwrites: copy it to the slot.
          native.copy(ring.buffer(s), ring.bufferOffset(s), req.data, req.dataOff, len);
          ring.write(s, req, (ns as FileNamespace).fileDescriptor, byteOff, len);
          return;
        }
      }
      try {
        ns.write(req.data, req.dataOff, byteOff, len);
      } catch (e) {
        q.ctx.log('warn', `${q.describe()}: write failed: ${(e as Error).message}`);
        req.complete(ST.WRITE_FAULT);
        return;
      }
      req.complete(ST.OK);
      const k = q.ctx.counters;
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
          if (ns === undefined) { req.complete(ST.INVALID_NS); return; }
          const ring = q.ctx.fileRing;
          if (ring !== null && ns.kind === 'file') {
            const s = ring.take();
            if (s >= 0) { ring.flush(s, req, (ns as FileNamespace).fileDescriptor); return; }
          }
          ns.flush();
        }
      } catch (e) {
        q.ctx.log('warn', `${q.describe()}: flush failed: ${(e as Error).message}`);
        req.complete(ST.WRITE_FAULT);
        return;
      }
      req.complete(ST.OK);
      return;
    }
    case NvmOpcode.WriteZeroes: {
      const ns = lbaRange(req, sub.ns[nsid - 1], false);
      if (ns === undefined) return;
      if (!zeroRange(req, ns, range.slba, range.nlb)) return void req.complete(ST.WRITE_FAULT);
      req.complete(ST.OK);
      return;
    }
    case NvmOpcode.DatasetManagement: {
      const ns = sub.ns[nsid - 1];
      if (ns === undefined) { req.complete(ST.INVALID_NS); return; }
      // CDW10 bits 7:0 NR (0's based), CDW11 bit 2 AD (Deallocate).
      const nr = (sqeCdw10(dv, 0) & 0xff) + 1;
      const attr = sqeCdw11(dv, 0);
      const data = req.data;
      if (data === null || req.dataLen !== nr * DSM_RANGE_SIZE) { req.complete(ST.SGL_LENGTH_INVALID); return; }
      // Deallocate (AD). File namespaces ignore it (DLFEAT 0: contents of deallocated blocks are
      // unspecified): zero-writing a whole file on a host's full-device discard would stall the reactor.
      if ((attr & 0x4) !== 0 && ns.kind !== 'file') {
        const ddv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const dOff = req.dataOff;
        // Check every range first: a bad range fails the command without touching the others.
        for (let i = 0; i < nr; i++) {
          const o = dOff + i * DSM_RANGE_SIZE;
          const n = dsmRangeNlb(ddv, o);
          const lba = dsmRangeSlba(ddv, o);
          if (lba + n > ns.blocks) { req.complete(ST.LBA_OUT_OF_RANGE); return; }
        }
        for (let i = 0; i < nr; i++) {
          const o = dOff + i * DSM_RANGE_SIZE;
          const n = dsmRangeNlb(ddv, o);
          const lba = dsmRangeSlba(ddv, o);
          if (n > 0 && !zeroRange(req, ns, lba, n)) { req.complete(ST.WRITE_FAULT); return; }
        }
      }
      req.complete(ST.OK);
      return;
    }
    default:
      req.complete(ST.INVALID_OPCODE);
  }
}

/** Deallocated / zeroed blocks read back as zeroes (Identify Namespace DLFEAT = 1). */
function zeroRange(req: TargetRequest, ns: NamespaceBackend, slba: number, nlb: number): boolean {
  try {
    ns.zero(slba * ns.blockSize, nlb * ns.blockSize);
    return true;
  } catch (e) {
    const q = req.queue;
    q.ctx.log('warn', `${q.describe()}: zeroing failed: ${(e as Error).message}`);
    return false;
  }
}

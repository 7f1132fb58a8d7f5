// Admin commands on the admin queue (QID 0) of an I/O or discovery controller: Identify, Get Log
// Page, Set/Get Features, Keep Alive, Asynchronous Event Request, Abort.
import { AdminOpcode, Cns, FeatureId, LogPageId } from '../nvme/opcodes.js';
import { ERROR_LOG_ENTRY_SIZE } from '../nvme/log-pages.js';
import type { TargetQueue, TargetRequest } from './request.js';
import type { TargetController } from './controller.js';
import { AEC_NS_ATTR_NOTICES, AEN_NS_ATTR_CHANGED } from './namespace-change.js';
import { SMART_FIELDS } from './control.js';
import {
  AERL, IDENTIFY_SIZE, SMART_SIZE, buildActiveNsList, buildCommandEffectsLog, buildDiscoveryLog, buildFirmwareSlotLog,
  buildIdentifyController, buildSmartLog, discoveryEntries,
} from './identify-data.js';
import { sqeCdw10, sqeCdw11, sqeCdw12, sqeCdw13, sqeNsid, sqeOpc, sqeSglLen } from '../nvme/sqe.js';
import { ST } from './status-codes.js';

const scratch = new Uint8Array(IDENTIFY_SIZE);

export function handleAdmin(req: TargetRequest): void {
  const c = req.queue;
  const opc = sqeOpc(req.sqv, 0);
  const ctrl = c.ctrl!;
  // Until CC.EN = 1 and CSTS.RDY = 1, admin commands get Command Sequence Error + DNR (Linux nvmet).
  if (!ctrl.ready) { req.complete(ST.CMD_SEQ_ERROR); return; }
  switch (opc) {
    case AdminOpcode.Identify: identify(req); return;
    case AdminOpcode.GetLogPage: getLogPage(req); return;
    case AdminOpcode.SetFeatures: setFeatures(req); return;
    case AdminOpcode.GetFeatures: getFeatures(req); return;
    case AdminOpcode.KeepAlive:
      ctrl.keepAlive(c.ctx.nowNs);
      req.complete(ST.OK);
      return;
    case AdminOpcode.AsyncEventRequest:
      // Parked until there is an event to report (Namespace Attribute Changed is the one we raise),
      // or the association goes away.
      if (ctrl.aers.length >= AERL + 1) { req.complete(ST.AER_LIMIT); return; }
      ctrl.aers.push(req.cid);
      c.park(req);
      if (ctrl.nsChanges.due) deliverNamespaceNotice(c, ctrl);
      return;
    case AdminOpcode.Abort: {
      if (ctrl.discovery) break;
      // CDW10: SQID bits 15:0, CID bits 31:16. A command this target holds unanswered is completed with
      // Command Abort Requested and the Abort's DW0 bit 0 is 0; anything else (commands on the admin
      // queue, on an I/O queue another reactor owns, or already executing) is not aborted: DW0 bit 0 = 1.
      const cdw10 = sqeCdw10(req.sqv, 0);
      const sqid = cdw10 & 0xffff, cid = cdw10 >>> 16;
      const q = sqid > 0 ? c.ctx.findIoQueue(ctrl.cntlid, sqid) : null;
      req.complete(ST.OK, q !== null && q.abortHeld(cid) ? 0 : 1);
      return;
    }
    default:
      break;
  }
  req.complete(ST.INVALID_OPCODE);
}

/**
 * Namespace Attribute Changed is due on ctrl (admin queue q): if the host enabled the notice (Set
 * Features Asynchronous Event Configuration bit 8) and an AER is parked, complete the oldest one with
 * it. Otherwise it stays due until an AER arrives (or, when disabled, until the log page is read).
 */
export function deliverNamespaceNotice(q: TargetQueue, ctrl: TargetController): void {
  if ((ctrl.asyncEventConfig & AEC_NS_ATTR_NOTICES) === 0 || ctrl.aers.length === 0) return;
  const cid = ctrl.aers.shift()!;
  ctrl.nsChanges.delivered();
  q.answerParked(cid, AEN_NS_ATTR_CHANGED);
}

function identify(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  const cns = sqeCdw10(dv, 0) & 0xff; // CDW10 bits 7:0
  const nsid = sqeNsid(dv, 0);
  const ctrl = c.ctrl!;
  if (sqeSglLen(dv, 0) !== IDENTIFY_SIZE) { req.complete(ST.SGL_LENGTH_INVALID); return; }
  const p = c.ctx.params;
  const sub = p.subsystem;
  if (ctrl.discovery && cns !== Cns.Controller) { req.complete(ST.INVALID_FIELD); return; }
  switch (cns) {
    case Cns.Controller:
      buildIdentifyController(scratch, sub, ctrl.discovery, p.limits, ctrl.cntlid);
      req.sendDataAndComplete(scratch, 0, IDENTIFY_SIZE);
      return;
    case Cns.Namespace: {
      if (nsid === 0 || nsid === 0xffffffff) { req.complete(ST.INVALID_NS); return; }
      const id = c.ctx.nvm.idNs[nsid - 1];
      if (id) { req.sendDataAndComplete(id, 0, IDENTIFY_SIZE); return; }
      // Inactive NSID: a zero-filled structure with success (Linux nvmet).
      scratch.fill(0);
      req.sendDataAndComplete(scratch, 0, IDENTIFY_SIZE);
      return;
    }
    case Cns.ActiveNamespaceList:
      if (nsid >= 0xfffffffe) { req.complete(ST.INVALID_NS); return; }
      buildActiveNsList(scratch, sub, nsid);
      req.sendDataAndComplete(scratch, 0, IDENTIFY_SIZE);
      return;
    case Cns.NamespaceDescriptorList: {
      const d = c.ctx.nvm.nsDescs[nsid - 1];
      if (!d) { req.complete(ST.INVALID_NS); return; }
      req.sendDataAndComplete(d, 0, IDENTIFY_SIZE);
      return;
    }
    case 0x05: // I/O command set specific Identify Namespace
    case 0x06: { // I/O command set specific Identify Controller
      if ((sqeCdw11(dv, 0) >>> 24) !== 0) { req.complete(ST.INVALID_FIELD); return; } // only CSI 0 (NVM)
      if (cns === 0x05 && !c.ctx.nvm.idNs[nsid - 1]) { req.complete(ST.INVALID_NS); return; }
      scratch.fill(0); // nothing NVM-specific beyond the base structures
      req.sendDataAndComplete(scratch, 0, IDENTIFY_SIZE);
      return;
    }
    default:
      req.complete(ST.INVALID_FIELD);
  }
}

function getLogPage(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  // CDW10: LID bits 7:0, NUMDL bits 31:16; CDW11: NUMDU bits 15:0; CDW12/13: LPOL/LPOU.
  const cdw10 = sqeCdw10(dv, 0);
  const lid = cdw10 & 0xff;
  const numd = ((cdw10 >>> 16) | ((sqeCdw11(dv, 0) & 0xffff) << 16)) >>> 0;
  const len = (numd + 1) * 4;
  const offset = sqeCdw12(dv, 0) + sqeCdw13(dv, 0) * 4294967296;
  const ctrl = c.ctrl!;
  // The host must ask for exactly NUMD bytes (Linux nvmet checks the SGL length the same way).
  if (sqeSglLen(dv, 0) !== len) { req.complete(ST.SGL_LENGTH_INVALID); return; }
  if (offset % 4 !== 0) { req.complete(ST.INVALID_FIELD); return; }
  let full: Uint8Array;
  if (ctrl.discovery) {
    if (lid !== LogPageId.Discovery) { req.complete(ST.INVALID_FIELD); return; }
    full = buildDiscoveryLog(discoveryEntries([c.ctx.params.subsystem], c.ctx.params.listeners, ctrl.hostnqn));
  } else {
    switch (lid) {
      case LogPageId.Error:
        full = new Uint8Array(ERROR_LOG_ENTRY_SIZE);
        break;
      case LogPageId.SmartHealth: {
        const ctx = c.ctx;
        ctx.flushSmart();
        const k = ctx.control;
        full = new Uint8Array(SMART_SIZE);
        buildSmartLog(full, {
          readCommands: k.smartValue(SMART_FIELDS.READ_CMDS),
          writeCommands: k.smartValue(SMART_FIELDS.WRITE_CMDS),
          readUnits512: k.smartValue(SMART_FIELDS.READ_UNITS),
          writeUnits512: k.smartValue(SMART_FIELDS.WRITE_UNITS),
          powerOnHours: BigInt(Math.floor((Date.now() - ctx.params.startedAtMs) / 3_600_000)),
        });
        break;
      }
      case LogPageId.FirmwareSlot:
        full = new Uint8Array(512);
        buildFirmwareSlotLog(full, c.ctx.params.subsystem.firmware);
        break;
      case LogPageId.ChangedNamespaceList:
        // The NSIDs changed since the last read; the read clears them and unmasks the event unless
        // RAE (CDW10 bit 15, Retain Asynchronous Event) is set.
        full = new Uint8Array(4096);
        ctrl.nsChanges.readLog(full, (cdw10 & 0x8000) !== 0);
        break;
      case LogPageId.CommandsSupported:
        full = new Uint8Array(4096);
        buildCommandEffectsLog(full, false);
        break;
      default:
        req.complete(ST.INVALID_FIELD);
        return;
    }
  }
  if (offset > full.length) { req.complete(ST.INVALID_FIELD); return; }
  // Exactly `len` bytes from `offset`, zero-filled past the end of the log.
  const outBuf = new Uint8Array(len);
  outBuf.set(full.subarray(offset, Math.min(full.length, offset + len)));
  req.sendDataAndComplete(outBuf, 0, len);
}

/** Features a discovery controller accepts (Linux nvmet: KATO and async event configuration). */
function discoveryFeature(fid: number): boolean {
  return fid === FeatureId.KeepAliveTimer || fid === FeatureId.AsyncEventConfig;
}

function setFeatures(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  // CDW10: FID bits 7:0, SV bit 31; CDW11: the value.
  const cdw10 = sqeCdw10(dv, 0);
  const fid = cdw10 & 0xff;
  const save = (cdw10 & 0x8000_0000) !== 0;
  const v = sqeCdw11(dv, 0);
  const ctrl = c.ctrl!;
  if (ctrl.discovery && !discoveryFeature(fid)) { req.complete(ST.INVALID_FIELD); return; }
  if (save) { req.complete(ST.FEATURE_NOT_SAVEABLE); return; }
  switch (fid) {
    case FeatureId.Arbitration: ctrl.arbitration = v; break;
    case FeatureId.PowerManagement:
      if ((v & 0x1f) !== 0) { req.complete(ST.INVALID_FIELD); return; } // one power state (NPSS 0)
      ctrl.powerManagement = v;
      break;
    case FeatureId.TemperatureThreshold: ctrl.temperatureThreshold = v & 0xffff; break;
    case FeatureId.ErrorRecovery: ctrl.errorRecovery = v; break;
    case FeatureId.VolatileWriteCache: ctrl.volatileWriteCache = v & 1; break;
    case FeatureId.NumberOfQueues: {
      const nsqr = v & 0xffff, ncqr = v >>> 16;
      if (nsqr === 0xffff || ncqr === 0xffff) { req.complete(ST.INVALID_FIELD); return; }
      ctrl.nsqa = Math.min(nsqr + 1, ctrl.maxIoQueues);
      ctrl.ncqa = Math.min(ncqr + 1, ctrl.maxIoQueues);
      c.ctx.registry.setGrantedQueues(ctrl.slot, Math.min(ctrl.nsqa, ctrl.ncqa));
      req.complete(ST.OK, (((ctrl.ncqa - 1) << 16) | (ctrl.nsqa - 1)) >>> 0);
      return;
    }
    case FeatureId.InterruptCoalescing: ctrl.interruptCoalescing = v & 0xffff; break;
    case FeatureId.WriteAtomicity: ctrl.writeAtomicity = v & 1; break;
    case FeatureId.AsyncEventConfig: ctrl.asyncEventConfig = v; break;
    case FeatureId.KeepAliveTimer:
      ctrl.setKato(v, c.ctx.nowNs);
      break;
    case FeatureId.HostIdentifier:
      // Fabrics hosts identify themselves in Connect; setting it is a Command Sequence Error (Linux nvmet).
      req.complete(ST.CMD_SEQ_ERROR);
      return;
    default:
      req.complete(ST.INVALID_FIELD);
      return;
  }
  req.complete(ST.OK);
}

function getFeatures(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  // CDW10: FID bits 7:0, SEL bits 10:8.
  const cdw10 = sqeCdw10(dv, 0);
  const fid = cdw10 & 0xff;
  const sel = (cdw10 >>> 8) & 7;
  const ctrl = c.ctrl!;
  if (ctrl.discovery && !discoveryFeature(fid)) { req.complete(ST.INVALID_FIELD); return; }
  if (sel === 3) {
    // Supported capabilities: bit 2 changeable (nothing is saveable or namespace specific).
    switch (fid) {
      case FeatureId.Arbitration: case FeatureId.PowerManagement: case FeatureId.TemperatureThreshold:
      case FeatureId.ErrorRecovery: case FeatureId.VolatileWriteCache: case FeatureId.NumberOfQueues:
      case FeatureId.InterruptCoalescing: case FeatureId.WriteAtomicity: case FeatureId.AsyncEventConfig:
      case FeatureId.KeepAliveTimer:
        req.complete(ST.OK, 0x4);
        return;
      case FeatureId.HostIdentifier:
        req.complete(ST.OK, 0);
        return;
      default:
        req.complete(ST.INVALID_FIELD);
        return;
    }
  }
  const dflt = sel === 1 || sel === 2;
  const maxq = ctrl.maxIoQueues;
  let value: number;
  switch (fid) {
    case FeatureId.Arbitration: value = dflt ? 0 : ctrl.arbitration; break;
    case FeatureId.PowerManagement: value = dflt ? 0 : ctrl.powerManagement; break;
    case FeatureId.TemperatureThreshold: value = dflt ? 0x0157 : ctrl.temperatureThreshold; break;
    case FeatureId.ErrorRecovery: value = dflt ? 0 : ctrl.errorRecovery; break;
    case FeatureId.VolatileWriteCache: value = dflt ? 1 : ctrl.volatileWriteCache; break;
    case FeatureId.NumberOfQueues:
      value = dflt ? (((maxq - 1) << 16) | (maxq - 1)) >>> 0 : (((ctrl.ncqa - 1) << 16) | (ctrl.nsqa - 1)) >>> 0;
      break;
    case FeatureId.InterruptCoalescing: value = dflt ? 0 : ctrl.interruptCoalescing; break;
    case FeatureId.WriteAtomicity: value = dflt ? 0 : ctrl.writeAtomicity; break;
    case FeatureId.AsyncEventConfig: value = dflt ? 0 : ctrl.asyncEventConfig; break;
    case FeatureId.KeepAliveTimer: value = dflt ? 0 : ctrl.kato; break;
    case FeatureId.HostIdentifier: {
      // 128-bit host identifier (EXHID, CDW11 bit 0, must be set) returned as 16 bytes of data.
      if ((sqeCdw11(dv, 0) & 1) === 0) { req.complete(ST.INVALID_FIELD); return; }
      if (sqeSglLen(dv, 0) !== 16) { req.complete(ST.SGL_LENGTH_INVALID); return; }
      req.sendDataAndComplete(ctrl.hostid, 0, 16);
      return;
    }
    default:
      req.complete(ST.INVALID_FIELD);
      return;
  }
  req.complete(ST.OK, value >>> 0);
}

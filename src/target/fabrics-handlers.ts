// Fabrics commands (OPC 0x7F): Connect, Property Get/Set, Disconnect.
import { FabricsType } from '../nvme/opcodes.js';
import { CNTLID_DYNAMIC, ConnectDataOffset, connectInvalidParamDw0 } from '../nvme/fabrics.js';
import { PropertyOffset } from '../nvme/registers.js';
import { readFixedString } from '../nvme/strings.js';
import type { TargetRequest } from './request.js';
import { ConnState } from './conn-state.js';
import { TargetController } from './controller.js';
import { ADMIN_QUEUE_ENTRIES, TARGET_NVME_VERSION } from './identify-data.js';
import { DISCOVERY_NQN, DISCOVERY_SUBSYS_INDEX, NVM_SUBSYS_INDEX, hostAllowed } from './subsystem.js';
import { sqeCdw10, sqeCdw11, sqeCdw12, sqeFctype } from '../nvme/sqe.js';
import { ST } from './status-codes.js';

/** CAP.TO: 15 × 500 ms (enable is immediate here; this is what Linux nvmet reports). */
const CAP_TO = 15;

/** CAP as two 32-bit halves: MQES, CQR = 1, TO, CSS bit 0 (NVM) at bit 37, MPSMIN = MPSMAX = 0, DSTRD 0. */
export function capHalves(maxQueueDepth: number): [number, number] {
  const lo = ((maxQueueDepth - 1) & 0xffff) | (1 << 16) | (CAP_TO << 24);
  const hi = 1 << (37 - 32);
  return [lo >>> 0, hi >>> 0];
}

export function handleFabrics(req: TargetRequest): void {
  const c = req.queue;
  const fctype = sqeFctype(req.sqv, 0);
  if (fctype === FabricsType.Connect) { connect(req); return; }
  if (c.state !== ConnState.Active) { req.complete(ST.INVALID_OPCODE); return; }
  switch (fctype) {
    case FabricsType.PropertyGet:
      if (c.qid !== 0 || !c.ctrl) { req.complete(ST.INVALID_OPCODE); return; }
      propertyGet(req);
      return;
    case FabricsType.PropertySet:
      if (c.qid !== 0 || !c.ctrl) { req.complete(ST.INVALID_OPCODE); return; }
      propertySet(req);
      return;
    case FabricsType.Disconnect:
      if (c.qid === 0) { req.complete(ST.INVALID_QUEUE_TYPE); return; }
      req.complete(ST.OK);
      c.gracefulClose('Disconnect');
      return;
    default:
      req.complete(ST.INVALID_OPCODE);
  }
}

function connect(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  const data = req.data, dOff = req.dataOff, dLen = req.dataLen;
  // Connect on a queue that is already connected: Controller Busy (notes §5.3).
  if (c.state === ConnState.Active) { req.complete(ST.CONNECT_CTRL_BUSY); return; }
  if (!data || dLen !== 1024) { req.complete(ST.SGL_LENGTH_INVALID); return; }
  // CDW10: RECFMT bits 15:0, QID bits 31:16; CDW11: SQSIZE bits 15:0, CATTR bits 23:16; CDW12: KATO.
  const cdw10 = sqeCdw10(dv, 0), cdw11 = sqeCdw11(dv, 0);
  const recfmt = cdw10 & 0xffff;
  const qid = cdw10 >>> 16;
  const sqsize = cdw11 & 0xffff;
  const cattr = (cdw11 >>> 16) & 0xff;
  const kato = sqeCdw12(dv, 0);
  const flowOff = (cattr & 0x04) !== 0;
  const ctx = c.ctx;
  const p = ctx.params;

  if (recfmt !== 0) { req.complete(ST.CONNECT_INCOMPATIBLE_FORMAT); return; }
  const hostid = data.slice(dOff + ConnectDataOffset.HOSTID, dOff + ConnectDataOffset.HOSTID + 16);
  const cntlid = data[dOff + ConnectDataOffset.CNTLID]! | (data[dOff + ConnectDataOffset.CNTLID + 1]! << 8);
  const subnqn = readFixedString(data, dOff + ConnectDataOffset.SUBNQN, 256);
  const hostnqn = readFixedString(data, dOff + ConnectDataOffset.HOSTNQN, 256);
  const invalid = (offset: number, inData: boolean, why: string): void => {
    ctx.log('warn', `${c.describe()}: Connect refused (${why}): host ${hostnqn || '(none)'}, subsystem ${subnqn}`);
    req.complete(ST.CONNECT_INVALID_PARAM, connectInvalidParamDw0(offset, inData));
  };

  let discovery: boolean;
  if (subnqn === DISCOVERY_NQN) discovery = true;
  else if (subnqn === p.subsystem.nqn) discovery = false;
  else { invalid(ConnectDataOffset.SUBNQN, true, 'unknown subsystem NQN'); return; }
  // An empty HOSTNQN is accepted when the subsystem allows any host (SPDK's initiator sends one unless
  // told otherwise; SPDK's nvmf_tgt and Linux nvmet accept it); an allow-list never matches it.
  if (!discovery && !hostAllowed(p.subsystem, hostnqn)) {
    ctx.log('warn', `${c.describe()}: Connect refused: host ${hostnqn || '(empty host NQN)'} is not allowed to ${subnqn}`);
    req.complete(ST.CONNECT_INVALID_HOST);
    return;
  }
  const maxEntries = qid === 0 ? Math.max(ADMIN_QUEUE_ENTRIES, p.limits.maxQueueDepth) : p.limits.maxQueueDepth;
  if (sqsize === 0 || sqsize + 1 > maxEntries) { invalid(44, false, `SQSIZE ${sqsize} (at most ${maxEntries - 1})`); return; }
  const hostBytes = Buffer.from(hostnqn, 'utf8');

  if (qid === 0) {
    if (cntlid !== CNTLID_DYNAMIC) { invalid(ConnectDataOffset.CNTLID, true, `admin Connect with CNTLID ${cntlid}`); return; }
    const subsysIndex = discovery ? DISCOVERY_SUBSYS_INDEX : NVM_SUBSYS_INDEX;
    const a = ctx.registry.allocate(subsysIndex, hostBytes, p.maxIoQueues);
    if (!a) {
      ctx.log('warn', `${c.describe()}: Connect refused: no free controller`);
      req.complete(ST.CONNECT_CTRL_BUSY);
      return;
    }
    const ctrl = new TargetController(a.cntlid, a.slot, subsysIndex, discovery, hostnqn, hostid, 0, p.maxIoQueues, ctx.registry);
    ctrl.setKato(kato === 0 && discovery ? p.discoveryKatoMs : kato, ctx.nowNs); // discovery: never without one (Linux nvmet)
    c.becomeAdmin(ctrl, sqsize + 1, flowOff, discovery ? null : ctx.nvm);
    ctx.log('info', `controller ${a.cntlid} created for ${hostnqn || '(empty host NQN)'} on ${discovery ? 'the discovery subsystem' : subnqn} (${c.describe()}, KATO ${ctrl.kato} ms)`);
    req.complete(ST.OK, a.cntlid, 0, flowOff ? 0xffff : 1);
    return;
  }

  if (discovery) { invalid(42, false, 'I/O queue Connect to the discovery subsystem'); return; }
  const r = ctx.registry.connectIo(cntlid, NVM_SUBSYS_INDEX, hostBytes, qid);
  if (!r.ok) {
    switch (r.why) {
      case 'no-controller':
      case 'subsystem':
        invalid(ConnectDataOffset.CNTLID, true, `no controller ${cntlid}`);
        return;
      case 'host':
        invalid(ConnectDataOffset.HOSTNQN, true, `controller ${cntlid} belongs to another host`);
        return;
      case 'not-ready':
        invalid(42, false, `controller ${cntlid} is not enabled (CC.EN = 0)`);
        return;
      case 'qid-range':
        invalid(42, false, `QID ${qid} above the granted I/O queue count`);
        return;
      case 'qid-in-use':
        // QID already connected: Command Sequence Error (Linux nvmet, notes §5.3).
        ctx.log('warn', `${c.describe()}: Connect refused: QID ${qid} of controller ${cntlid} is already connected`);
        req.complete(ST.CMD_SEQ_ERROR);
        return;
    }
  }
  c.becomeIo(qid, cntlid, r.slot, r.epoch, sqsize + 1, flowOff, ctx.nvm, hostnqn);
  req.complete(ST.OK, cntlid, 0, flowOff ? 0xffff : 1);
}

function propertyGet(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  // CDW10 (ATTRIB) bits 2:0: size; CDW11: OFST.
  const attrib = sqeCdw10(dv, 0) & 7;
  const ofst = sqeCdw11(dv, 0);
  const ctrl = c.ctrl!;
  const [capLo, capHi] = capHalves(c.ctx.params.limits.maxQueueDepth);
  if (attrib === 1) {
    if (ofst === PropertyOffset.CAP) { req.complete(ST.OK, capLo, capHi); return; }
    req.complete(ST.INVALID_FIELD);
    return;
  }
  if (attrib !== 0) { req.complete(ST.INVALID_FIELD); return; }
  switch (ofst) {
    case PropertyOffset.CAP: req.complete(ST.OK, capLo); return;
    case PropertyOffset.CAP + 4: req.complete(ST.OK, capHi); return;
    case PropertyOffset.VS: req.complete(ST.OK, TARGET_NVME_VERSION); return;
    case PropertyOffset.CC: req.complete(ST.OK, ctrl.cc); return;
    case PropertyOffset.CSTS: req.complete(ST.OK, ctrl.csts); return;
    default: req.complete(ST.INVALID_FIELD);
  }
}

function propertySet(req: TargetRequest): void {
  const c = req.queue, dv = req.sqv;
  // CDW10 (ATTRIB), CDW11 (OFST), CDW12..13: VALUE (CC is 4 bytes).
  const attrib = sqeCdw10(dv, 0) & 7;
  const ofst = sqeCdw11(dv, 0);
  const value = sqeCdw12(dv, 0);
  const ctrl = c.ctrl!;
  if (attrib !== 0 || ofst !== PropertyOffset.CC) { req.complete(ST.INVALID_FIELD); return; }
  const what = ctrl.writeCc(value);
  switch (what) {
    case 'enabled':
      c.ctx.log('info', `controller ${ctrl.cntlid}: enabled (CC 0x${value.toString(16)})`);
      break;
    case 'failed':
      c.ctx.log('warn', `controller ${ctrl.cntlid}: CC 0x${value.toString(16)} has unsupported IOSQES/IOCQES/MPS/AMS: CSTS.CFS set`);
      break;
    case 'disabled':
    case 'shutdown':
      ctrl.aers.length = 0;
      c.ctx.log('info', `controller ${ctrl.cntlid}: ${what} (CC 0x${value.toString(16)})`);
      c.ctx.wakeAll();
      break;
    case 'none':
      break;
  }
  req.complete(ST.OK);
}

// Namespaces added or removed while the target runs (RPC nvmf_subsystem_add_ns / remove_ns): the
// message the main thread posts to every reactor, and what a controller reports about it — an
// Asynchronous Event (Notice, Namespace Attribute Changed) and the Changed Namespace List log page.
import type { NamespaceShared } from './namespace.js';
import type { NamespaceIdentity } from './subsystem.js';

/** Highest NSID the target hands out (Identify Controller NN; SPDK subsystems default to 32 namespaces). */
export const MAX_NSID = 32;

export type NamespaceChange =
  | { type: 'ns-add'; nsid: number; shared: NamespaceShared; identity: NamespaceIdentity }
  | { type: 'ns-remove'; nsid: number };

/**
 * Asynchronous Event Request completion DW0 (base spec, Asynchronous Event Request command):
 * bits 2:0 event type 2 (Notice), bits 15:8 information 0 (Namespace Attribute Changed), bits 23:16
 * the log page to read, 04h (Changed Namespace List).
 */
export const AEN_NS_ATTR_CHANGED = (0x04 << 16) | (0x00 << 8) | 0x2;

/** Asynchronous Event Configuration (Set Features FID 0Bh) bit 8: Namespace Attribute Notices. */
export const AEC_NS_ATTR_NOTICES = 1 << 8;

/** Changed Namespace List: at most 1024 NSIDs; more changes are reported as FFFFFFFFh in the first entry. */
export const CHANGED_NS_LIST_ENTRIES = 1024;

/**
 * Per controller: the namespaces changed since the host last read log page 04h, and whether the
 * event is due (raised, not yet delivered) or delivered and masked until that read (the base spec's
 * rule: an event type is not reported again until its log page was read).
 */
export class NamespaceChangeState {
  private changed: number[] = [];
  private overflow = false;
  /** An event waits for an Asynchronous Event Request to carry it. */
  due = false;
  /** Delivered; no new event of this kind until the log page is read. */
  masked = false;

  /** Namespace `nsid` changed. Returns true when a new event is due (not masked, not already due). */
  note(nsid: number): boolean {
    if (!this.changed.includes(nsid)) {
      if (this.changed.length < CHANGED_NS_LIST_ENTRIES) this.changed.push(nsid);
      else this.overflow = true;
    }
    if (this.masked || this.due) return false;
    this.due = true;
    return true;
  }

  /** The event went out in an AER completion. */
  delivered(): void {
    this.due = false;
    this.masked = true;
  }

  /** Log page 04h (4096 bytes: NSIDs in ascending order, zero-filled). `retain` (RAE): keep the list and the mask. */
  readLog(out: Uint8Array, retain: boolean): void {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    if (this.overflow) dv.setUint32(0, 0xffffffff, true);
    else [...this.changed].sort((a, b) => a - b).forEach((id, i) => dv.setUint32(i * 4, id, true));
    if (retain) return;
    this.changed = [];
    this.overflow = false;
    this.masked = false;
    this.due = false; // the host has read what the event would have told it
  }
}

// NQN syntax checks: "nqn." prefix, at most 223 bytes (carried in 256-byte NUL-padded fields).
import { NQN_MAX_BYTES } from '../nvme/opcodes.js';

/** Returns why `nqn` is not a valid NQN, or null when it is. */
export function validateNqn(nqn: string): string | null {
  if (!nqn.startsWith('nqn.')) return 'an NQN starts with "nqn."';
  if (Buffer.byteLength(nqn, 'utf8') > NQN_MAX_BYTES) return `an NQN is at most ${NQN_MAX_BYTES} bytes`;
  if (/\s/.test(nqn)) return 'an NQN has no white space';
  return null;
}

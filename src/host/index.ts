// Host (initiator) side: controller bring-up, discovery, I/O qpairs, poll groups.
export { Controller, type ControllerOptions, type AdminCompletion, NO_MDTS_CAP_BYTES, DEFAULT_KATO_MS } from './controller.js';
export { Namespace } from './namespace.js';
export { discover, discoverLog, readDiscoveryLog, type DiscoveryLog, type DiscoverOptions } from './discovery.js';
export { connectIoQpair } from './io-qpair.js';
export { PollGroup } from './poll-group.js';
export { RequestQueue } from './request-queue.js';
export { parseTrid, formatTrid, checkNqn, DEFAULT_TRSVCID } from './trid.js';
export { defaultHostIdentity, hostIdFor, type HostIdentity } from './host-identity.js';
export {
  runSync, readSync, writeSync, flushSync, writeZeroesSync, deallocateSync, DEFAULT_SYNC_TIMEOUT_MS,
} from './sync-io.js';
export type {
  IoQpair, IoCompletionCallback, QpairConnectParams, RawCompletion, TransportId, TransportOps, LbaRange,
} from '../transport/transport.js';
export { TcpQpair } from '../transport/tcp/tcp-qpair.js';

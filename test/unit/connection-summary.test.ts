// The summary's connection lines (--ctrl-loss-tmo): one line per disconnect / reconnect / loss, at its time.
import { describe, expect, it } from 'vitest';
import { connectionLines } from '../../src/report/summary-table.js';
import type { PerfResult } from '../../src/report/result-types.js';

const trid = 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.x';

function withConnection(connection: PerfResult['connection']): PerfResult {
  return { connection } as PerfResult;
}

describe('connection lines', () => {
  it('names each disconnect, reconnect and loss with its time, outage, attempts and CNTLID', () => {
    const lines = connectionLines(withConnection({ ctrlLossTmoSec: 10, reconnectDelaySec: 1, fastIoFailTmoSec: -1, retriedIos: 16, events: [
      { kind: 'disconnect', t: 1.234, at: '2026-11-29T19:00:01.234Z', controller: 0, trid },
      { kind: 'reconnect', t: 3.5, at: '2026-11-29T19:00:03.500Z', controller: 0, trid, cntlid: 2, outageSec: 2.266, attempts: 2 },
      { kind: 'disconnect', t: 5, at: '2026-11-29T19:00:05.000Z', controller: 0, trid },
      { kind: 'lost', t: 15, at: '2026-11-29T19:00:15.000Z', controller: 0, trid, outageSec: 10, attempts: 9, error: 'connection refused' },
    ] }));
    expect(lines).toEqual([
      'connection: 2 disconnect(s), 1 reconnect(s), 16 I/O(s) retried after reconnecting',
      `  t=1.2 s ${trid}: DISCONNECTED`,
      `  t=3.5 s ${trid}: reconnected after 2.3 s (attempt 2, CNTLID 2)`,
      `  t=5.0 s ${trid}: DISCONNECTED`,
      `  t=15.0 s ${trid}: LOST after 10.0 s (9 attempt(s); last: connection refused)`,
    ]);
  });

  it('prints nothing without the flag or without events', () => {
    expect(connectionLines(withConnection(undefined))).toEqual([]);
    expect(connectionLines(withConnection({ ctrlLossTmoSec: 5, reconnectDelaySec: 1, fastIoFailTmoSec: -1, retriedIos: 0, events: [] }))).toEqual([]);
  });
});

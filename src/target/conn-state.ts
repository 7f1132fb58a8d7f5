// Connection states of a target-side NVMe/TCP queue (see connection.ts).
export const ConnState = { WaitIc: 0, WaitConnect: 1, Active: 2, Closing: 3, Closed: 4 } as const;

// Samples a target's reactors once a second over its JSON-RPC socket with framework_get_reactors
// (our target, or SPDK's nvmf_tgt: same field names; busy/idle are ticks at tick_rate Hz).
import { JsonRpcClient } from '../rpc/client.js';
import type { ReactorSample } from './run-record.js';
import type { TargetSampler } from './target-sampler.js';

interface ReactorsReply {
  tick_rate?: number;
  reactors?: Array<{ lcore: number; busy: number; idle: number; in_interrupt?: boolean; connections?: number; qpairs?: number;
    spin?: number; sleep?: number; sleeps?: number; wakeups?: number }>;
}

export class RpcTargetSampler implements TargetSampler {
  private readonly client: JsonRpcClient;
  private latest: ReactorSample[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  lastError: string | undefined;

  constructor(readonly socketPath: string) {
    this.client = new JsonRpcClient(socketPath, 1500);
  }

  /** Fetch once (throws with a one-line message when the socket does not answer), then every second. */
  async start(): Promise<void> {
    await this.poll(true);
    this.timer = setInterval(() => { void this.poll(false); }, 1000);
    this.timer.unref();
  }

  private async poll(throwOnError: boolean): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const r = (await this.client.call('framework_get_reactors')) as ReactorsReply;
      const hz = r.tick_rate && r.tick_rate > 0 ? r.tick_rate : 1e9;
      this.latest = (r.reactors ?? []).map((x) => ({
        lcore: x.lcore,
        busy: (x.busy / hz) * 1e9,
        idle: (x.idle / hz) * 1e9,
        inInterrupt: x.in_interrupt ?? false,
        ...(x.spin !== undefined ? { spin: (x.spin / hz) * 1e9 } : {}),
        ...(x.sleep !== undefined ? { sleep: (x.sleep / hz) * 1e9 } : {}),
        ...(x.sleeps !== undefined ? { sleeps: x.sleeps } : {}),
        ...(x.wakeups !== undefined ? { wakeups: x.wakeups } : {}),
        ...(x.connections !== undefined ? { connections: x.connections } : {}),
        ...(x.qpairs !== undefined ? { qpairs: x.qpairs } : {}),
      }));
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
      if (throwOnError) throw e;
    } finally {
      this.inFlight = false;
    }
  }

  sample(): ReactorSample[] | undefined {
    return this.latest;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.client.close();
  }
}

// JSON-RPC 2.0 client for a Unix socket (ours or SPDK's nvmf_tgt). One request at a time.
import { connect, type Socket } from 'node:net';
import { JsonStream } from './json-stream.js';
import type { JsonValue } from './server.js';

export class JsonRpcClient {
  private socket: Socket | undefined;
  private nextId = 1;
  private pending: { id: number; resolve: (v: JsonValue) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private readonly stream = new JsonStream();

  constructor(readonly path: string, readonly timeoutMs = 2000) {}

  private open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const s = connect(this.path);
      s.setEncoding('utf8');
      s.once('connect', () => { this.socket = s; resolve(s); });
      s.once('error', (e: NodeJS.ErrnoException) => {
        reject(new Error(`RPC socket ${this.path}: ${e.code === 'ENOENT' ? 'no such socket' : e.code === 'ECONNREFUSED' ? 'nothing listens there' : e.message}`));
        this.fail(new Error(`RPC socket ${this.path}: ${e.message}`));
      });
      s.on('data', (t: string) => this.onData(t));
      s.on('close', () => this.fail(new Error(`RPC socket ${this.path} closed`)));
    });
  }

  private onData(text: string): void {
    let msgs: string[];
    try { msgs = this.stream.push(text); } catch (e) { this.fail(e as Error); return; }
    for (const m of msgs) {
      const reply = JSON.parse(m) as { id?: number; result?: JsonValue; error?: { code: number; message: string } };
      const p = this.pending;
      if (!p || reply.id !== p.id) continue;
      this.pending = undefined;
      clearTimeout(p.timer);
      if (reply.error) p.reject(new Error(`RPC ${reply.error.message} (code ${reply.error.code})`));
      else p.resolve(reply.result ?? null);
    }
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) { clearTimeout(p.timer); p.reject(e); }
  }

  async call(method: string, params?: JsonValue): Promise<JsonValue> {
    if (this.pending) throw new Error('RPC client: one request at a time');
    const s = await this.open();
    const id = this.nextId++;
    return new Promise<JsonValue>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`RPC ${method}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { id, resolve, reject, timer };
      s.write(JSON.stringify({ jsonrpc: '2.0', method, id, ...(params === undefined ? {} : { params }) }));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

// JSON-RPC 2.0 server on a Unix socket, speaking the way SPDK's RPC server does (objects back to back),
// so scripts/rpc.py-style clients and our own client both work.
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync, existsSync, statSync } from 'node:fs';
import { JsonStream } from './json-stream.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type RpcHandler = (params: JsonValue | undefined) => JsonValue | Promise<JsonValue>;

/** An error with a JSON-RPC error code (-32602 invalid params, -32601 no such method, ...). */
export class RpcError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

export class JsonRpcServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly methods: Record<string, RpcHandler>) {}

  /** Listen on `path`; a stale socket file left by a dead process is replaced. */
  async listen(path: string): Promise<void> {
    if (existsSync(path)) {
      if (!statSync(path).isSocket()) throw new Error(`--rpc-socket ${path}: exists and is not a socket`);
      rmSync(path);
    }
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on RPC socket ${path}: ${e.message}`)));
      this.server!.listen(path, () => resolve());
    });
  }

  private serve(s: Socket): void {
    this.sockets.add(s);
    s.setEncoding('utf8');
    const stream = new JsonStream();
    s.on('data', (text: string) => {
      let msgs: string[];
      try {
        msgs = stream.push(text);
      } catch (e) {
        s.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: (e as Error).message } }));
        return;
      }
      for (const m of msgs) void this.handle(m).then((reply) => { if (reply && !s.destroyed) s.write(reply); });
    });
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  private async handle(text: string): Promise<string | undefined> {
    let req: { jsonrpc?: unknown; id?: JsonValue; method?: unknown; params?: JsonValue };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    const id = req.id ?? null;
    if (req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
      return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request' } });
    }
    const fn = this.methods[req.method];
    if (!fn) return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
    try {
      const result = await fn(req.params);
      return req.id === undefined ? undefined : JSON.stringify({ jsonrpc: '2.0', id, result });
    } catch (e) {
      const code = e instanceof RpcError ? e.code : -32603;
      return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: (e as Error).message } });
    }
  }

  async close(path?: string): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    if (path && existsSync(path)) rmSync(path, { force: true });
  }
}

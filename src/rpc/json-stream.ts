// SPDK's RPC socket carries JSON-RPC 2.0 objects back to back with no delimiter (rpc.py reads until
// the buffer parses). JsonStream splits such a byte stream into complete top-level JSON values.

export class JsonStream {
  private buf = '';

  /** Appends text and returns every complete top-level value it now holds (raw JSON text). */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    let depth = 0, inString = false, escaped = false, start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const ch = this.buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') { inString = true; continue; }
      if (ch === '{' || ch === '[') {
        if (depth === 0) start = i;
        depth++;
      } else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0 && start >= 0) {
          out.push(this.buf.slice(start, i + 1));
          consumed = i + 1;
          start = -1;
        } else if (depth < 0) {
          throw new SyntaxError('unbalanced JSON on the RPC socket');
        }
      } else if (depth === 0 && !/\s/.test(ch)) {
        throw new SyntaxError(`unexpected "${ch}" between JSON-RPC messages`);
      }
    }
    this.buf = this.buf.slice(consumed);
    if (this.buf.length > 16 * 1024 * 1024) throw new SyntaxError('JSON-RPC message larger than 16 MiB');
    return out;
  }
}

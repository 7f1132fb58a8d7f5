// Log lines to stderr that never block the calling thread.
//
// A reactor thread that blocks in write(2) stops serving its connections and never sees the stop
// flag; worse, Worker.terminate() and process.exit() then wait for it forever (they join the
// thread). That is what happens when stderr is a terminal or a pipe nobody drains (a backgrounded
// target whose terminal is not read, Ctrl-S, a full pipe): the target ignored SIGTERM.
//
// Each thread writes through its own open file description of stderr (re-opened through
// /proc/self/fd/2, so O_NONBLOCK does not leak to the file description the shell and other
// processes share) and drops a line when the write would block, counting what it dropped. Where
// stderr cannot be re-opened (a socket, no /proc) a line is written only when poll() says stderr
// has room, and cut to PIPE_BUF so one write cannot block on a partial fit.
import * as fs from 'node:fs';
import { POLLOUT, native } from '../native/index.js';

const PIPE_BUF = 4096;
/** This thread's non-blocking stderr: ≥ 0 an fd, -1 not opened yet, -2 use fd 2 guarded by poll(). */
let fd = -1;
let dropped = 0;

function openFd(): number {
  try {
    const c = fs.constants;
    fd = fs.openSync('/proc/self/fd/2', c.O_WRONLY | c.O_APPEND | c.O_NONBLOCK | c.O_NOCTTY);
  } catch {
    fd = -2;
  }
  return fd;
}

/** Lines this thread dropped because stderr was not taking them. */
export function droppedStderrLines(): number { return dropped; }

/** Writes `text` (one or more whole lines) to stderr unless that would block; never throws. */
export function writeStderrLine(text: string): void {
  const f = fd === -1 ? openFd() : fd;
  let line = text;
  if (dropped > 0) line = `(${dropped} earlier log line${dropped === 1 ? '' : 's'} dropped: stderr was not being read)\n${line}`;
  try {
    if (f >= 0) {
      const b = Buffer.from(line, 'utf8');
      const n = fs.writeSync(f, b, 0, b.length);
      if (n < b.length) {
        // A partial write to a full pipe or terminal: finish the line if possible, never wait.
        try { fs.writeSync(f, b, n, b.length - n); } catch { fs.writeSync(f, '\n'); }
      }
    } else {
      if ((native.pollFd(2, POLLOUT, 0) & POLLOUT) === 0) { dropped++; return; }
      let b = Buffer.from(line, 'utf8');
      if (b.length > PIPE_BUF) b = Buffer.concat([b.subarray(0, PIPE_BUF - 4), Buffer.from('...\n')]);
      fs.writeSync(2, b, 0, b.length);
    }
    dropped = 0;
  } catch {
    dropped++; // EAGAIN (not being read) or stderr gone
  }
}

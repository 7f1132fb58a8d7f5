// Worker-thread entry of one reactor: pin to its CPU, open the namespaces, report ready, run the
// loop until the main thread sets the stop flag. Messages: {type:'ready'}, {type:'error', message}.
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../native/index.js';
import { Reactor } from './reactor.js';
import { SLEEPER_TIMER_SLACK_NS } from '../util/adaptive-wait.js';
import type { ReactorParams } from './reactor-context.js';

export type ReactorMessage = { type: 'ready'; tid: number } | { type: 'error'; message: string };

const params = workerData as ReactorParams;
const port = parentPort!;
let reactor: Reactor | undefined;
try {
  native.pinThread(params.cpu);
  if (params.interruptMode) native.timerSlackNs(SLEEPER_TIMER_SLACK_NS);
  reactor = new Reactor(params);
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message } satisfies ReactorMessage);
}
if (reactor) {
  port.postMessage({ type: 'ready', tid: native.gettid() } satisfies ReactorMessage);
  reactor.run();
}

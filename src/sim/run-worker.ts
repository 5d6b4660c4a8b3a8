import { parentPort, workerData } from 'node:worker_threads';
import { runSimulation, type RunOptions } from './engine.js';
import { setProgressSink } from './progress.js';

/**
 * One run of the simulator in a worker thread (the demo's unprotected run, beside the protected one
 * on the main thread): its own event loop for its simulator and its Vigie, so that the two runs use
 * both cores. Progress lines go to the main thread's board; the result comes back as one message.
 */
const { options, tty } = workerData as { options: RunOptions; tty: boolean };
const port = parentPort!;
setProgressSink((key, line, final) => port.postMessage({ kind: 'progress', key, line, final }), tty);
runSimulation({ ...options, keepServing: false }).then(
  (result) => port.postMessage({ kind: 'result', result }),
  (error: unknown) =>
    port.postMessage({
      kind: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
);

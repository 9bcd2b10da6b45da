import { TRPCError } from '@trpc/server';
import superjson from 'superjson';

const megabytes = (bytes: number) => {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Math.floor(mb * 10) / 10} MB` : `${Math.max(1, Math.floor(bytes / 1024))} KB`;
};

/**
 * The bytes one HTTP request may answer with, shared by every call of its batch
 * (HTTP_MAX_RESPONSE_BYTES). tRPC runs a batch's calls side by side and then writes one JSON
 * body, so the bound is kept per call: a call whose data would take the total past it answers
 * PAYLOAD_TOO_LARGE instead, and the body stays whole and well-formed (never cut off midway).
 * Which calls of an oversized batch fail is the order they finish in; each failure is small.
 */
export class AnswerBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {}

  /** Before the work: once the budget is spent, a further call is refused without running. */
  check(): void {
    if (this.used >= this.maxBytes) throw this.tooLarge();
  }

  /** After the work: counts the call's data as tRPC will send it, or refuses it. */
  spend(data: unknown): void {
    // Measured as sent: superjson's envelope, JSON-encoded, in UTF-8 bytes.
    const bytes = data === undefined ? 0 : Buffer.byteLength(JSON.stringify(superjson.serialize(data)));
    if (this.used + bytes > this.maxBytes) throw this.tooLarge();
    this.used += bytes;
  }

  private tooLarge() {
    return new TRPCError({
      code: 'PAYLOAD_TOO_LARGE',
      message: `This answer is larger than ${megabytes(this.maxBytes)}: ask for fewer items or a smaller page, or send fewer calls in one batch.`,
    });
  }
}

/** What a form needs of a failed call: the server's per-field messages, already in words (server/zod-words.ts). */
interface WithFieldErrors {
  data?: { zodError?: { formErrors: string[]; fieldErrors: Record<string, string[] | undefined> } | null } | null;
}

/**
 * The messages of a refused input, by top-level field (a nested field's message is under its
 * parent's key) and, under `form`, those about the input as a whole. Empty when the call did
 * not fail on its input: that error is said some other way (a toast or an alert line).
 */
export function fieldErrorsOf(error: WithFieldErrors | null | undefined): {
  form: string[];
  field: Record<string, string[] | undefined>;
} {
  const z = error?.data?.zodError;
  return { form: z?.formErrors ?? [], field: z?.fieldErrors ?? {} };
}

/** Whether the call failed on its input, so its messages are shown beside the fields. */
export const isInputError = (error: WithFieldErrors | null | undefined) => !!error?.data?.zodError;

/** A field's messages, right under it. */
export function FieldErrors({ messages }: { messages?: string[] }) {
  return messages?.map((m) => (
    <small key={m} className="error">
      {m}
    </small>
  ));
}

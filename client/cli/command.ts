import type { CliContext } from './session';

export interface CommandArgs {
  ctx: CliContext;
  /** Positional arguments after the command name. */
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  /** Aborts on Ctrl-C: long-running commands (watch) stop on it. */
  signal: AbortSignal;
  /** Prints one JSON line to stdout. */
  print: (value: unknown) => void;
}

export interface Command {
  name: string;
  usage: string;
  /** A returned value is printed as JSON; streaming commands print as they go and return nothing. */
  run(args: CommandArgs): Promise<unknown>;
}

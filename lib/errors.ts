/**
 * Errors a user can cause (bad config, bad CLI argument, bad trace line, bad litmus file) are
 * `LazytlbError`s: the CLI prints their message alone, never a stack trace. Anything else that
 * escapes is a bug in lazytlb.
 */
export class LazytlbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A message that echoes what the user typed stays one line: a control character in their text (a
 * newline in a value, a tab) shows escaped, as JSON writes it (`\n`, `\t`).
 */
function oneLine(message: string): string {
  return [...message].map((c) => (c < ' ' ? JSON.stringify(c).slice(1, -1) : c)).join('');
}

/** A configuration key or value is unknown, malformed or out of range. */
export class ConfigError extends LazytlbError {
  constructor(message: string) {
    super(oneLine(message));
  }
}

/** An input file (litmus test, trace) does not parse; the message names file, line and what was expected. */
export class ParseError extends LazytlbError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(oneLine(`${file}:${line}: ${detail}`));
  }
}

/** The simulated machine cannot make progress (deadlock), or a run exceeded its cycle/event budget. */
export class WatchdogError extends LazytlbError {}

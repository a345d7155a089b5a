/**
 * A mistake in what the user gave us (a file, a flag, an argument). The CLI prints its message as
 * one line and exits with status 2; anything else reaching the CLI is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = "UserError";
  readonly exitCode = 2;
}

/** A UserError about an input file: "FILE (WHERE): MESSAGE", e.g. where = "line 12" or "byte 16". */
export function inputError(file: string, where: string | undefined, message: string): UserError {
  return new UserError(where ? `${file} (${where}): ${message}` : `${file}: ${message}`);
}

/** Throw a UserError naming the argument unless `condition` holds. */
export function require(condition: boolean, message: string): asserts condition {
  if (!condition) throw new UserError(message);
}

/** A UserError about a name that is taken (a project, a token): the HTTP API answers it with 409. */
export class ConflictError extends UserError {}

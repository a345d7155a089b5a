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

/**
 * A parameter given a value it does not take, named in the library's own words (`cap`, as the
 * strategy declares it); the CLI names the flag, the HTTP API the JSON field.
 */
export class ParamError extends UserError {
  constructor(
    readonly param: string,
    readonly expected: string,
    readonly got: unknown,
    readonly where: string,
    message = `${where}: ${param} expects ${expected}, got ${JSON.stringify(got)}`,
  ) {
    super(message);
  }
}

/** A UserError about a name that is taken (a project, a token): the HTTP API answers it with 409. */
export class ConflictError extends UserError {}

import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * A request the server refuses: answered with `status` and {"error": message}, nothing written;
 * `field` names the body's field at fault, when one is (`strategyParams.cap`), for a client to
 * point at it.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, message, field);
export const forbidden = (message: string) => new HttpError(403, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

/** Request bodies above this are refused with 413. */
export const BODY_LIMIT = 1 << 20;

/**
 * Headers on every answer: no sniffing, no referrer (a login link's code must not leak), never
 * framed, and a CSP that lets the app load only its own scripts and styles.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

/** Media files: never run as a document (an SVG's script stays inert even when opened directly). */
export const MEDIA_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

export function sendHtml(response: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(html),
    ...headers,
  });
  response.end(html);
}

/** Text for HTML (element content and quoted attribute values). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The request body as text; 413 past BODY_LIMIT. */
export async function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > BODY_LIMIT) throw new HttpError(413, `the body is over ${BODY_LIMIT} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > BODY_LIMIT) throw new HttpError(413, `the body is over ${BODY_LIMIT} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    // The client went away mid-body: nothing to answer, nothing to log.
    throw new HttpError(400, "the request body was cut off");
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The media type of a request, lower case, without parameters ("" when absent). */
export const contentType = (request: IncomingMessage) => (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();

/**
 * The request body as a JSON object; 415 unless it is sent as application/json (a form or a
 * text/plain body, which a page on another origin can send without asking, is never read as
 * JSON), 400 when it is not an object.
 */
export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  if (contentType(request) !== "application/json") throw new HttpError(415, "send the body as JSON, with Content-Type: application/json");
  const text = await readBody(request);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("malformed JSON in the request body");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest("expected a JSON object in the request body");
  return value as Record<string, unknown>;
}

/** Typed reads of a JSON body's fields; a missing or mistyped one is a 400 naming it. */
export class Fields {
  constructor(private readonly body: Record<string, unknown>) {}

  string(key: string, what: string, options: { optional: true; max?: number }): string | undefined;
  string(key: string, what: string, options?: { optional?: false; max?: number }): string;
  string(key: string, what: string, options: { optional?: boolean; max?: number } = {}): string | undefined {
    const v = this.body[key];
    if ((v === undefined || v === null || v === "") && options.optional) return undefined;
    if (typeof v !== "string" || v === "") throw badRequest(`expected "${key}": ${what}, as a string`, key);
    if (v.length > (options.max ?? 10_000)) throw badRequest(`"${key}" is over ${options.max ?? 10_000} characters`, key);
    return v;
  }

  number(key: string, what: string, range: { min: number; max: number; integer?: boolean }): number | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < range.min || v > range.max || (range.integer && !Number.isInteger(v))) {
      throw badRequest(`expected "${key}": ${what}, ${range.integer ? "an integer" : "a number"} from ${range.min} to ${range.max}`, key);
    }
    return v;
  }

  /** A JSON object of plain values (a strategy's parameters), or undefined. */
  object(key: string, what: string): Record<string, string | number | boolean> | undefined {
    const v = this.body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => ["string", "number", "boolean"].includes(typeof x))) {
      throw badRequest(`expected "${key}": ${what}, as an object of strings, numbers and booleans`, key);
    }
    return v as Record<string, string | number | boolean>;
  }

  strings(key: string, what: string): string[] | undefined {
    const v = this.body[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v === "string")
      return v
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean);
    if (Array.isArray(v) && v.every((c) => typeof c === "string")) return v as string[];
    throw badRequest(`expected "${key}": ${what}, as a list of strings`, key);
  }
}

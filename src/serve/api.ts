import type { IncomingMessage, ServerResponse } from "node:http";
import { encodePng } from "../data/images/png.js";
import { requireAccess, projectFor, visibleProjects, type Access, type Caller } from "./auth.js";
import { itemMedia } from "./display.js";
import { EXCHANGE_FORMATS, exportWriter, parseImport, type ExchangeFormat } from "./exchange.js";
import { badRequest, Fields, HttpError, MEDIA_CSP, notFound, readBody, readJsonObject, sendJson } from "./http.js";
import type { MediaFile } from "./media.js";
import type { ProjectService } from "./project-service.js";
import { projectRequest } from "./project-request.js";
import type { CreateProjectOptions } from "./projects.js";
import { expiryOf, ROLES, type Role } from "./store/tokens.js";
import type { Project, Store, Token } from "./store/store.js";

/** What the routes need of the server (the server satisfies it; routes never import it). */
export interface ApiHost {
  readonly store: Store;
  readonly settings: { maxLeases: number; dataRoot: string; loginHours: number };
  service(project: Project): Promise<ProjectService>;
  /** Files never to be read as data: the server's own database. */
  databaseFiles(): Set<string>;
  /** Read a media file (or the part a Range header asks for) safely, in another process (see MediaReader); undefined when refused. */
  readMedia(file: string, range?: string): Promise<MediaFile | undefined>;
  /** Create a project off the event loop; resolves when it is ready. */
  createProject(options: CreateProjectOptions): Promise<Project>;
  /** The origin login links should point at, for this request. */
  origin(request: IncomingMessage): string;
}

interface Call {
  host: ApiHost;
  request: IncomingMessage;
  response: ServerResponse;
  query: URLSearchParams;
  token: Token;
  params: Record<string, string>;
}
type ProjectCall = Call & { project: Project; service: ProjectService };

interface Route {
  method: "GET" | "POST" | "DELETE";
  /** Segments after /api/; ":name" matches one segment. */
  path: string;
  access: Access;
  /** An image the page loads with <img>: no page key can come with it (see pageKey). */
  image?: true;
  /** 201 for creations; a handler that answers by itself returns undefined. */
  status?: number;
  handler: (call: Call) => unknown;
}

/** Routes under projects/:project/, with the project and its running loop resolved. */
const projectRoute = (method: Route["method"], rest: string, access: Access, handler: (call: ProjectCall) => unknown): Route => ({
  method,
  path: `projects/:project/${rest}`,
  access,
  handler: async (call) => {
    const project = projectFor(call.token, call.host.store.project(call.params.project), call.params.project);
    return handler({ ...call, project, service: await call.host.service(project) });
  },
});

const lease = (b: Fields) => ({
  item: b.string("item", "the id of an item", { max: 1000 }),
  lease: b.string("lease", "the lease that came with the item", { max: 100 }),
});
const json = async (call: Call) => new Fields(await readJsonObject(call.request));

/** Every route of the API, in one table: method, path, who may call it, and what it does. */
const ROUTES: Route[] = [
  {
    method: "GET",
    path: "me",
    access: "token",
    handler: ({ host, token }) => ({
      name: token.name,
      role: token.role,
      projects: visibleProjects(token, host.store.projects()).map((p) => p.name),
      // Where projects created in the browser may read files (admins create them).
      ...(token.role === "admin" ? { dataRoot: host.settings.dataRoot } : {}),
    }),
  },

  { method: "GET", path: "tokens", access: "admin", handler: ({ host }) => host.store.tokens.list().map(({ id: _id, ...t }) => t) },
  { method: "POST", path: "tokens", access: "admin", status: 201, handler: async (call) => createToken(call, await json(call)) },
  {
    method: "DELETE",
    path: "tokens/:name",
    access: "admin",
    handler: ({ host, token, params }) => {
      host.store.transaction(() => {
        if (!host.store.tokens.revoke(params.name)) throw notFound(`no active token named ${JSON.stringify(params.name)}`);
        host.store.audit.append(token, "token-revoke", {}, { name: params.name });
      });
      return { revoked: params.name };
    },
  },
  {
    method: "POST",
    path: "tokens/:name/link",
    access: "admin",
    status: 201,
    handler: ({ host, token, params, request }) => {
      const target = host.store.tokens.active(params.name);
      if (!target) throw notFound(`no active token named ${JSON.stringify(params.name)}`);
      const code = host.store.tokens.createLoginCode(target.id, host.settings.loginHours);
      host.store.audit.append(token, "token-link", {}, { name: params.name });
      return { name: target.name, login: loginLink(host.origin(request), code), expiresInHours: host.settings.loginHours };
    },
  },
  {
    method: "GET",
    path: "audit",
    access: "admin",
    handler: ({ host, query, response }) => {
      const limit = boundedInt(query.get("limit"), "limit", 1, 100000, 100),
        before = boundedInt(query.get("before"), "before", 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const entries = host.store.audit
        .list({ limit, before, project: query.get("project") ?? undefined })
        .map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
      if (query.get("format") !== "jsonl") return entries;
      response.writeHead(200, {
        "content-type": "application/x-ndjson; charset=utf-8",
        "cache-control": "no-store",
        "content-disposition": 'attachment; filename="alfamix-audit.jsonl"',
      });
      response.end(entries.map((e) => JSON.stringify(e) + "\n").join(""));
      return undefined;
    },
  },

  {
    method: "GET",
    path: "projects",
    access: "token",
    handler: ({ host, token }) =>
      visibleProjects(token, host.store.projects()).map((p) => ({
        name: p.name,
        pool: p.size,
        classes: p.classes,
        strategy: p.config.strategy,
        batch: p.config.batch,
        labeled: host.store.labelCount(p.id),
        display: p.display.kind,
      })),
  },
  {
    method: "POST",
    path: "projects",
    access: "admin",
    status: 201,
    handler: async (call) => {
      const project = await call.host.createProject(projectRequest(await readJsonObject(call.request), call.host.settings.dataRoot, call.host.databaseFiles()));
      call.host.store.audit.append(call.token, "project-create", { project: project.name }, { pool: project.size, classes: project.classes });
      return { name: project.name, pool: project.size, classes: project.classes };
    },
  },

  projectRoute("GET", "status", "token", ({ service, token }) => service.status(token)),
  projectRoute("GET", "accuracy", "token", ({ service }) => service.accuracyCurve()),
  projectRoute("GET", "agreement", "token", ({ service }) => service.agreement()),
  projectRoute("GET", "next", "token", ({ service, token, host }) => service.next(token, host.settings.maxLeases)),
  projectRoute("POST", "labels", "token", async (call) => {
    const b = await json(call);
    return call.service.label(call.token, { ...lease(b), label: b.string("label", "one of the project's classes", { max: 1000 }) });
  }),
  projectRoute("DELETE", "labels/:item", "token", ({ service, token, params, host }) => service.undo(token, params.item, host.settings.maxLeases)),
  projectRoute("POST", "skip", "token", async (call) => call.service.skip(call.token, lease(await json(call)))),
  projectRoute("POST", "release", "token", async (call) => call.service.release(call.token, lease(await json(call)))),
  projectRoute("POST", "heartbeat", "token", async (call) => call.service.heartbeat(call.token, lease(await json(call)))),
  projectRoute("GET", "reviews", "reviewer", ({ service, query }) => service.reviews(query.get("open") !== "0")),
  projectRoute("POST", "reviews", "reviewer", async (call) => {
    const b = await json(call);
    return call.service.resolve(call.token, {
      item: b.string("item", "the id of an item under review", { max: 1000 }),
      label: b.string("label", "the label it should have", { max: 1000 }),
    });
  }),
  // Every label with its author: for reviewers and admins (an annotator's second looks are blind).
  // Streamed a page at a time, yielding between pages: an export of 10⁵ labels never stalls the server.
  projectRoute("GET", "export", "reviewer", async ({ host, project, request, response, query }) => {
    const writer = exportWriter(exchangeFormat(query), project);
    response.writeHead(200, {
      "content-type": writer.contentType,
      "cache-control": "no-store",
      "content-disposition": `attachment; filename="${project.name}-labels.${writer.extension}"`,
    });
    response.write(writer.head);
    let index = 0;
    for (const page of host.store.exportPages(project.id, EXPORT_PAGE)) {
      if (request.destroyed || response.destroyed) return undefined;
      await send(response, page.map((l) => writer.row(l, index++)).join(""));
    }
    response.end(writer.tail);
    return undefined;
  }),
  projectRoute("POST", "import", "admin", async ({ service, token, request, query }) => {
    const format = exchangeFormat(query);
    return service.importLabels(token, parseImport(format, await readBody(request)), format);
  }),
  {
    ...projectRoute("GET", "items/:item/media", "token", async ({ host, request, project, service, response, params }) => {
      let media: Pick<MediaFile, "body" | "type" | "svg" | "size" | "range" | "unsatisfiable">;
      if (project.display.kind === "pixels") {
        const body = Buffer.from(encodePng(project.display.width, project.display.height, 1, service.pixels(params.item)));
        media = { body, type: "image/png", svg: false, size: body.length };
      } else if (project.display.kind === "media" || project.display.kind === "path") {
        const range = request.headers.range;
        const found = await itemMedia(project, params.item, service.itemDisplay(params.item), (file) => host.readMedia(file, range));
        if (!found || found.text) throw notFound(`no image or clip for item ${JSON.stringify(params.item)}`);
        media = found;
      } else throw notFound(`project ${JSON.stringify(project.name)} shows no images`);
      const headers = {
        "accept-ranges": "bytes",
        "cache-control": "private, max-age=3600",
        "content-security-policy": MEDIA_CSP,
        ...(media.svg ? { "content-disposition": "attachment" } : {}),
      };
      if (media.unsatisfiable) {
        response.writeHead(416, { ...headers, "content-type": "application/json", "content-range": `bytes */${media.size}` });
        response.end(
          JSON.stringify({ error: `the range asked for is outside the file's ${media.size} bytes (or the clip is too large to send whole: ask for a range)` }),
        );
        return undefined;
      }
      response.writeHead(media.range ? 206 : 200, {
        ...headers,
        "content-type": media.type,
        "content-length": media.body.length,
        ...(media.range ? { "content-range": `bytes ${media.range[0]}-${media.range[0] + media.body.length - 1}/${media.size}` } : {}),
      });
      response.end(media.body);
      return undefined;
    }),
    image: true,
  },
];

/** Answer an /api/ request: find its route, check the caller's role, run it (the caller maps errors). */
export async function routeApi(
  host: ApiHost,
  request: IncomingMessage,
  response: ServerResponse,
  segments: string[],
  query: URLSearchParams,
  caller: Caller,
): Promise<void> {
  const method = request.method ?? "GET";
  const matches = ROUTES.filter((r) => {
    const pattern = r.path.split("/");
    return pattern.length === segments.length && pattern.every((p, i) => p.startsWith(":") || p === segments[i]);
  });
  if (matches.length === 0) throw notFound(`no API at /api/${segments.join("/")}`);
  const route = matches.find((r) => r.method === method);
  if (!route) throw new HttpError(405, `${method} is not allowed here (allowed: ${matches.map((r) => r.method).join(", ")})`);
  // A cookie without its page's key: set by another page, or this page's session was replaced.
  if (caller.viaCookie && caller.token && !caller.pageKeyMatches && !route.image)
    throw new HttpError(401, "this page's session changed or is from an old version: open a login link again");
  const token = requireAccess(caller.token, route.access);
  const params: Record<string, string> = {};
  route.path.split("/").forEach((p, i) => {
    if (p.startsWith(":")) params[p.slice(1)] = segments[i];
  });
  const result = await route.handler({ host, request, response, query, token, params });
  if (result !== undefined) sendJson(response, route.status ?? 200, result);
}

function createToken({ host, token, request }: Call, b: Fields) {
  const name = b.string("name", "who the token is for", { max: 64 });
  const role = b.string("role", ROLES.join(", "), { max: 20 }) as Role;
  const projectName = b.string("project", "a project's name", { optional: true, max: 64 });
  const project = projectName === undefined ? undefined : host.store.project(projectName);
  if (projectName !== undefined && !project) throw notFound(`no project ${JSON.stringify(projectName)}`);
  const expires = b.string("expires", "a duration such as 30d or 12h", { optional: true, max: 20 });
  const expiresAt = expiryOf(expires, '"expires"');
  let created!: { id: number; secret: string }, code!: string;
  host.store.transaction(() => {
    created = host.store.tokens.create(name, role, project?.id ?? null, expiresAt);
    code = host.store.tokens.createLoginCode(created.id, host.settings.loginHours);
    host.store.audit.append(token, "token-create", {}, { name, role, project: projectName ?? null, expiresAt });
  });
  return {
    name,
    role,
    project: projectName ?? null,
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    token: created.secret,
    login: loginLink(host.origin(request), code),
    loginExpiresInHours: host.settings.loginHours,
  };
}

/** Labels per page of a streamed export. */
const EXPORT_PAGE = 5000;

/**
 * Write a chunk, wait for the socket to drain (or close), then give the event loop a turn. Both:
 * on loopback a write completes at once and 'drain' comes on the next tick, so waiting for it
 * alone never lets the server answer anyone else until the export ends (seen: 3 s).
 */
async function send(response: ServerResponse, chunk: string): Promise<void> {
  if (!response.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        response.off("drain", done);
        response.off("close", done);
        resolve();
      };
      response.on("drain", done);
      response.on("close", done);
    });
  }
  await new Promise((resolve) => setImmediate(resolve));
}

export const loginLink = (origin: string, code: string) => `${origin}/login?code=${encodeURIComponent(code)}`;

function exchangeFormat(query: URLSearchParams): ExchangeFormat {
  const format = query.get("format") ?? "csv";
  if (!(EXCHANGE_FORMATS as readonly string[]).includes(format))
    throw badRequest(`format must be one of ${EXCHANGE_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  return format as ExchangeFormat;
}

function boundedInt(text: string | null, name: string, min: number, max: number, fallback: number): number {
  if (text === null || text === "") return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  return v;
}

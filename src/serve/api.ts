import { existsSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, isAbsolute, join, resolve, sep } from "node:path";
import { encodePng } from "../data/images/png.js";
import { requireAdmin, requireProjectAccess, requireToken, visibleProjects } from "./auth.js";
import { EXCHANGE_FORMATS, exportLabels, parseImport, type ExchangeFormat } from "./exchange.js";
import { badRequest, HttpError, notFound, readBody, readJson, sendJson } from "./http.js";
import type { ProjectService } from "./project-service.js";
import { createProject } from "./projects.js";
import type { LabelServer } from "./server.js";
import type { Project, Token } from "./store/store.js";

export interface ApiRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  token: Token | undefined;
}

type ProjectHandler = (server: LabelServer, call: ApiRequest & { project: Project; service: ProjectService; token: Token }, parts: string[]) => Promise<unknown> | unknown;

/** Routes under /api/projects/:name/…, by method and the rest of the path (":item" matches one segment). */
const projectRoutes: { method: string; path: string; handler: ProjectHandler }[] = [
  { method: "GET", path: "status", handler: (_, { service }) => service.status() },
  { method: "GET", path: "accuracy", handler: (_, { service }) => service.accuracyCurve() },
  { method: "GET", path: "next", handler: (_, { service, token }) => service.next(token) },
  { method: "POST", path: "labels", handler: async (_, { service, token, request }) => service.label(token, await readJson(request)) },
  { method: "DELETE", path: "labels/:item", handler: (_, { service, token }, [item]) => service.undo(token, item) },
  { method: "POST", path: "skip", handler: async (_, { service, token, request }) => service.skip(token, await readJson(request)) },
  { method: "POST", path: "release", handler: async (_, { service, token, request }) => service.release(token, await readJson(request)) },
  { method: "POST", path: "heartbeat", handler: async (_, { service, token, request }) => service.heartbeat(token, await readJson(request)) },
  {
    method: "GET", path: "export", handler: (server, { project, response, url }) => {
      const { contentType, body } = exportLabels(exchangeFormat(url), server.store.exportLabels(project.id), project);
      response.writeHead(200, { "content-type": contentType, "cache-control": "no-store", "content-disposition": `attachment; filename="${project.name}-labels.${url.searchParams.get("format") === "labelstudio" ? "json" : url.searchParams.get("format") ?? "csv"}"` });
      response.end(body);
      return undefined;
    },
  },
  { method: "POST", path: "import", handler: async (_, { service, token, request, url }) => service.importLabels(token, parseImport(exchangeFormat(url), await readBody(request))) },
  { method: "GET", path: "items/:item/media", handler: (_, { project, service, response }, [item]) => sendMedia(project, service, item, response) },
];

/** Answer an /api/ request (the caller catches HttpError and UserError). */
export async function routeApi(server: LabelServer, call: ApiRequest): Promise<void> {
  const { request, response, url } = call;
  const segments = url.pathname.slice("/api/".length).split("/").map((s) => decodeURIComponent(s));
  const method = request.method ?? "GET";
  let result: unknown;
  let status = 200;
  if (segments.length === 1 && segments[0] === "me") {
    const token = requireToken(call.token);
    result = { name: token.name, role: token.role, projects: visibleProjects(token, server.store.projects()).map((p) => p.name) };
  } else if (segments[0] === "tokens" && segments.length === 1) {
    requireAdmin(call.token);
    if (method === "GET") result = server.store.tokens();
    else if (method === "POST") {
      const body = (await readJson(request)) as { name?: unknown; role?: unknown; project?: unknown };
      if (typeof body?.name !== "string" || body.name.trim() === "") throw badRequest('expected "name": who the token is for');
      if (body.role !== "admin" && body.role !== "annotator") throw badRequest('expected "role": "admin" or "annotator"');
      let projectId: number | null = null;
      if (body.project !== undefined && body.project !== null && body.project !== "") {
        const project = server.store.project(String(body.project));
        if (!project) throw notFound(`no project ${JSON.stringify(body.project)}`);
        projectId = project.id;
      }
      result = { name: body.name.trim(), role: body.role, project: body.project ?? null, token: server.store.createToken(body.name.trim(), body.role, projectId) };
      status = 201;
    } else throw methodNotAllowed(method);
  } else if (segments[0] === "projects" && segments.length === 1) {
    if (method === "GET") {
      const token = requireToken(call.token);
      result = visibleProjects(token, server.store.projects()).map((p) => ({ name: p.name, pool: p.size, classes: p.classes, strategy: p.config.strategy, batch: p.config.batch, labeled: server.store.labelCount(p.id), display: p.display.kind }));
    } else if (method === "POST") {
      requireAdmin(call.token);
      const project = await createProject(server.store, projectRequest(await readJson(request)));
      result = { name: project.name, pool: project.size, classes: project.classes };
      status = 201;
    } else throw methodNotAllowed(method);
  } else if (segments[0] === "projects" && segments.length >= 3) {
    const project = server.store.project(segments[1]);
    requireToken(call.token);
    if (!project) throw notFound(`no project ${JSON.stringify(segments[1])}`);
    const token = requireProjectAccess(call.token, project);
    const rest = segments.slice(2);
    const route = projectRoutes.find((r) => {
      const pattern = r.path.split("/");
      return pattern.length === rest.length && pattern.every((p, i) => p.startsWith(":") || p === rest[i]);
    });
    if (!route) throw notFound(`no API at ${url.pathname}`);
    if (route.method !== method) throw methodNotAllowed(method);
    const service = await server.service(project);
    const params = route.path.split("/").flatMap((p, i) => (p.startsWith(":") ? [rest[i]] : []));
    result = await route.handler(server, { ...call, project, service, token }, params);
    if (result === undefined) return; // the handler answered itself
  } else throw notFound(`no API at ${url.pathname}`);
  sendJson(response, status, result);
}

const methodNotAllowed = (method: string) => new HttpError(405, `${method} is not allowed here`);

function exchangeFormat(url: URL): ExchangeFormat {
  const format = url.searchParams.get("format") ?? "csv";
  if (!(EXCHANGE_FORMATS as readonly string[]).includes(format)) throw badRequest(`format must be one of ${EXCHANGE_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  return format as ExchangeFormat;
}

/** POST /api/projects: the same settings as `alfamix project create`, as JSON. */
function projectRequest(body: unknown): Parameters<typeof createProject>[1] {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (k: string) => (b[k] === undefined || b[k] === null ? undefined : typeof b[k] === "string" ? (b[k] as string) : fail(k, "a string"));
  const num = (k: string) => (b[k] === undefined || b[k] === null ? undefined : typeof b[k] === "number" ? (b[k] as number) : fail(k, "a number"));
  const fail = (k: string, what: string): never => {
    throw badRequest(`expected "${k}" to be ${what}`);
  };
  const name = str("name"), pool = str("pool");
  if (!name || !pool) throw badRequest('expected "name" and "pool" (a path on the server to the pool file)');
  const classes = b.classes === undefined ? undefined : Array.isArray(b.classes) && b.classes.every((c) => typeof c === "string") ? (b.classes as string[]) : typeof b.classes === "string" ? b.classes.split(",").map((c) => c.trim()).filter(Boolean) : fail("classes", "a list of class names");
  const model = str("model");
  if (model !== undefined && model !== "linear" && model !== "mlp") fail("model", '"linear" or "mlp"');
  return {
    name, pool, ids: str("ids"), labeled: str("labeled"), classes, strategy: str("strategy"),
    batch: num("batch"), model: model as "linear" | "mlp" | undefined, randomShare: num("randomShare"), retrainEvery: num("retrainEvery"), seed: num("seed"), leaseSeconds: num("leaseSeconds"),
    media: str("media"), mediaColumn: str("mediaColumn"), textColumn: str("textColumn"),
  };
}

const MEDIA_TYPES: Record<string, string> = { ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml", ".bmp": "image/bmp" };

/** An item's image: its file (media folder or path column), or its pixels drawn as a PNG. */
function sendMedia(project: Project, service: ProjectService, item: string, response: ServerResponse): undefined {
  const display = project.display;
  let body: Buffer | Uint8Array, type: string;
  if (display.kind === "pixels") {
    body = encodePng(display.width, display.height, 1, service.pixels(item));
    type = "image/png";
  } else {
    let file: string | undefined;
    if (display.kind === "media") {
      service.rowOf(item);
      file = Object.keys(MEDIA_TYPES).map((e) => join(display.dir, item + e)).find((f) => existsSync(f));
      // The id names a file inside the folder, never outside it.
      if (file && !resolve(file).startsWith(display.dir + sep)) file = undefined;
    } else if (display.kind === "path") {
      const path = service.itemDisplay(item);
      if (path) file = isAbsolute(path) ? path : resolve(display.base, path);
    } else throw notFound(`project ${JSON.stringify(project.name)} shows no images`);
    if (!file || !statSync(file, { throwIfNoEntry: false })?.isFile()) throw notFound(`no image for item ${JSON.stringify(item)}`);
    body = readFileSync(file);
    type = MEDIA_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  }
  response.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "private, max-age=3600" });
  response.end(body);
  return undefined;
}

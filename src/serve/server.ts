import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { ConflictError, UserError } from "../errors.js";
import { routeApi, type ApiHost } from "./api.js";
import { authenticate, clearedCookie, pageKey, sessionCookie, sessionOf } from "./auth.js";
import { createProjectInChild } from "./create-project-worker.js";
import { RequestGuard } from "./guard.js";
import { badRequest, HttpError, readBody, SECURITY_HEADERS, sendHtml, sendJson } from "./http.js";
import { continuePage, loginPage, logoutPage, messagePage } from "./login-pages.js";
import { databaseFiles, type MediaFile } from "./media.js";
import { MediaReader } from "./media-reader.js";
import { ProjectService } from "./project-service.js";
import type { CreateProjectOptions } from "./projects.js";
import { serveAsset } from "./static.js";
import { Store, type Project } from "./store/store.js";

export interface ServeOptions {
  db: string;
  host?: string;
  port?: number;
  /** The URL people open, when a proxy stands in front (its host is accepted, its origin trusted). */
  publicUrl?: string;
  /** Believe X-Forwarded-Proto from a proxy in front (then cookies are Secure over HTTPS). */
  trustProxy?: boolean;
  /** The most items one annotator holds at once (default 3: on screen, prefetched, one spare). */
  maxLeases?: number;
  /** Projects created over the API read files only inside this folder (default the database's). */
  dataRoot?: string;
  /** How long a login link works (default 24 h). */
  loginHours?: number;
  /** Where to report retrain failures and server errors (default stderr). */
  log?: (line: string) => void;
}

/** Expired sessions and login codes are purged this often. */
const PURGE_MS = 3600_000;

/**
 * The labelling service: one process, one SQLite file. Each project's loop (a ProjectService with
 * its retrain thread) starts on first use.
 */
export class LabelServer implements ApiHost {
  private readonly services = new Map<string, Promise<ProjectService>>();
  private server!: Server;
  private guard!: RequestGuard;
  private purgeTimer?: NodeJS.Timeout;
  private readonly mediaReader = new MediaReader();
  readonly settings: ApiHost["settings"];
  url = "";

  private constructor(
    readonly store: Store,
    options: ServeOptions,
    private readonly log: (line: string) => void,
  ) {
    this.settings = {
      maxLeases: options.maxLeases ?? 3,
      dataRoot: resolve(options.dataRoot ?? dirname(resolve(options.db))),
      loginHours: options.loginHours ?? 24,
    };
  }

  static async start(options: ServeOptions): Promise<LabelServer> {
    const store = new Store(options.db);
    const server = new LabelServer(store, options, options.log ?? ((line) => process.stderr.write(`${line}\n`)));
    store.tokens.purgeExpired();
    server.server = createServer((request, response) => void server.handle(request, response));
    const host = options.host ?? "127.0.0.1";
    await new Promise<void>((done, fail) => {
      server.server.once("error", (e: NodeJS.ErrnoException) =>
        fail(e.code === "EADDRINUSE" ? new UserError(`serve: port ${options.port ?? 8080} on ${host} is in use; pass --port`) : e),
      );
      server.server.listen(options.port ?? 8080, host, () => done());
    });
    const address = server.server.address() as AddressInfo;
    server.guard = new RequestGuard({ host, port: address.port, publicUrl: options.publicUrl, trustProxy: options.trustProxy === true });
    server.url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    // Login links made on the command line point here (alfamix token create|link).
    store.setSetting("url", options.publicUrl?.replace(/\/$/, "") ?? server.url);
    server.purgeTimer = setInterval(() => store.tokens.purgeExpired(), PURGE_MS).unref();
    return server;
  }

  /** The project's running loop, opened on first use. */
  service(project: Project): Promise<ProjectService> {
    let service = this.services.get(project.name);
    if (!service) {
      service = ProjectService.open(
        this.store,
        project,
        (e) => this.log(`alfamix: project ${project.name}: ${e.message}`),
        (file) => this.readMedia(file),
      );
      service.catch(() => this.services.delete(project.name));
      this.services.set(project.name, service);
    }
    return service;
  }

  databaseFiles(): Set<string> {
    return databaseFiles(this.store.path);
  }

  readMedia(file: string, range?: string): Promise<MediaFile | undefined> {
    return this.mediaReader.read(file, this.databaseFiles(), range);
  }

  async createProject(options: CreateProjectOptions): Promise<Project> {
    if (typeof options.pool !== "string") throw new Error("createProject: the API creates projects from files");
    if (this.store.project(options.name)) throw new ConflictError(`a project named ${JSON.stringify(options.name)} already exists`);
    await createProjectInChild(this.store.path, { ...options, pool: options.pool });
    return this.store.project(options.name)!;
  }

  origin(request: IncomingMessage): string {
    return this.guard.origin(request);
  }

  async close(): Promise<void> {
    clearInterval(this.purgeTimer);
    this.mediaReader.close();
    await new Promise<void>((done) => {
      this.server.close(() => done());
      this.server.closeAllConnections();
    });
    for (const service of this.services.values()) await (await service.catch(() => undefined))?.close();
    this.store.close();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    try {
      this.guard.checkHost(request);
      const url = new URL(request.url ?? "/", "http://localhost");
      const path = url.pathname;
      if (path === "/api/health") return sendJson(response, 200, { ok: true });
      if (path === "/login") return await this.login(request, response, url);
      if (path === "/logout") return await this.logout(request, response);
      if (path.startsWith("/api/")) {
        const segments = path.slice("/api/".length).split("/").map(decodeSegment);
        const caller = authenticate(this.store, request);
        if (caller.viaCookie) {
          this.guard.checkFetchSite(request);
          if (!isSafeMethod(request.method)) this.guard.checkSameOrigin(request);
        }
        return await routeApi(this, request, response, segments, url.searchParams, caller);
      }
      if (!isSafeMethod(request.method)) throw new HttpError(405, `${request.method} is not allowed here`);
      serveAsset(path, response);
    } catch (e) {
      this.answerError(request, response, e);
    }
  }

  /** The one place errors become answers: a refusal is a 4xx with one line, anything else is logged once and a 500. */
  private answerError(request: IncomingMessage, response: ServerResponse, e: unknown): void {
    // Sent already, or the client went away: nothing to answer.
    if (response.headersSent || !response.socket || response.socket.destroyed) {
      response.destroy();
      return;
    }
    if (e instanceof HttpError) {
      // A body refused half-way is not read to its end: close the connection after answering.
      if (e.status === 413) response.setHeader("connection", "close");
      sendJson(response, e.status, { error: e.message, ...(e.field ? { field: e.field } : {}) });
    } else if (e instanceof UserError) {
      sendJson(response, e instanceof ConflictError ? 409 : 400, { error: e.message });
    } else {
      this.log(`alfamix: ${request.method} ${request.url}: ${(e as Error).stack ?? e}`);
      sendJson(response, 500, { error: "internal error (logged by the server)" });
    }
  }

  /**
   * GET /login?code=C shows whom the link logs in as, and a button; only the POST (from this
   * origin) uses the code up and sets the session. So a link scanner that follows the link does
   * not spend it, and another page cannot log a browser in as someone else.
   */
  private async login(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method === "GET" || request.method === "HEAD") {
      const code = url.searchParams.get("code") ?? "";
      const token = code ? this.store.tokens.peekLoginCode(code) : undefined;
      const session = sessionOf(request);
      const current = session ? this.store.tokens.bySession(session) : undefined;
      // A bookmarked link, used already, in a browser that is still logged in: carry on.
      if (!token && current) return sendHtml(response, 200, continuePage(current.name, safeNext(url.searchParams.get("next"))));
      if (!token)
        return sendHtml(
          response,
          401,
          messagePage(
            "That login link is not valid",
            "It was used already, it expired, or its token was revoked. Ask an admin for a new one (alfamix token link).",
          ),
        );
      return sendHtml(
        response,
        200,
        loginPage({ code, next: safeNext(url.searchParams.get("next")), name: token.name, role: token.role, current: current?.name }),
      );
    }
    if (request.method !== "POST") throw new HttpError(405, `${request.method} is not allowed here`);
    this.guard.checkSameOrigin(request);
    const form = new URLSearchParams(await readBody(request));
    const token = this.store.tokens.takeLoginCode(form.get("code") ?? "");
    if (!token)
      return sendHtml(
        response,
        401,
        messagePage(
          "That login link is not valid",
          "It was used already, it expired, or its token was revoked. Ask an admin for a new one (alfamix token link).",
        ),
      );
    const old = sessionOf(request);
    const session = this.store.transaction(() => {
      if (old) this.store.tokens.deleteSession(old);
      this.store.audit.append(token, "login");
      return this.store.tokens.createSession(token.id);
    });
    // The page key rides in the fragment: the browser keeps it on the redirect, and no server or log sees it.
    response.writeHead(303, {
      location: `${safeNext(form.get("next"))}#k=${pageKey(session.secret)}`,
      "set-cookie": sessionCookie(session.secret, session.expiresAt, this.guard.isHttps(request)),
      "cache-control": "no-store",
    });
    response.end();
  }

  /** POST /logout ends the session on the server (its cookie is refused from then on); GET shows a button. */
  private async logout(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === "GET" || request.method === "HEAD") return sendHtml(response, 200, logoutPage());
    if (request.method !== "POST") throw new HttpError(405, `${request.method} is not allowed here`);
    this.guard.checkSameOrigin(request);
    const session = sessionOf(request);
    if (session) {
      const token = this.store.tokens.bySession(session);
      this.store.transaction(() => {
        this.store.tokens.deleteSession(session);
        if (token) this.store.audit.append(token, "logout");
      });
    }
    response.writeHead(303, { location: "/", "set-cookie": clearedCookie(this.guard.isHttps(request)), "cache-control": "no-store" });
    response.end();
  }
}

const isSafeMethod = (method: string | undefined) => method === "GET" || method === "HEAD";

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed %-escape in the path: ${JSON.stringify(segment.slice(0, 100))}`);
  }
}

/** `next` may send the browser on to a page of this site, never elsewhere. */
const safeNext = (next: string | null) => (next && /^\/(?!\/)[\w\-./%]*$/.test(next) ? next : "/");

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UserError } from "../errors.js";
import { routeApi } from "./api.js";
import { authenticate, sessionCookie, SESSION_COOKIE } from "./auth.js";
import { HttpError, sendJson } from "./http.js";
import { ProjectService } from "./project-service.js";
import { serveAsset } from "./static.js";
import { Store, type Project } from "./store/store.js";

export interface ServeOptions {
  db: string;
  host?: string;
  port?: number;
  /** Where to report retrain failures and server errors (default stderr). */
  log?: (line: string) => void;
}

/**
 * The labelling service: one process, one SQLite file. Each project's loop (a ProjectService with
 * its retrain thread) starts on first use.
 */
export class LabelServer {
  private readonly services = new Map<string, Promise<ProjectService>>();
  private server!: Server;
  url = "";

  private constructor(readonly store: Store, private readonly log: (line: string) => void) {}

  static async start(options: ServeOptions): Promise<LabelServer> {
    const store = new Store(options.db);
    const server = new LabelServer(store, options.log ?? ((line) => process.stderr.write(`${line}\n`)));
    server.server = createServer((request, response) => void server.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", (e: NodeJS.ErrnoException) => reject(e.code === "EADDRINUSE" ? new UserError(`serve: port ${options.port ?? 8080} on ${options.host ?? "127.0.0.1"} is in use; pass --port`) : e));
      server.server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => resolve());
    });
    const address = server.server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    server.url = `http://${host}:${address.port}`;
    return server;
  }

  /** The project's running loop, opened on first use. */
  service(project: Project): Promise<ProjectService> {
    let service = this.services.get(project.name);
    if (!service) {
      service = ProjectService.open(this.store, project, (e) => this.log(`alfamix: project ${project.name}: ${e.message}`));
      service.catch(() => this.services.delete(project.name));
      this.services.set(project.name, service);
    }
    return service;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const service of this.services.values()) await (await service.catch(() => undefined))?.close();
    this.store.close();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? "/", "http://localhost");
      const path = url.pathname;
      if (path === "/api/health") return sendJson(response, 200, { ok: true });
      if (path === "/login") return this.login(url, response);
      if (path === "/logout") {
        response.writeHead(302, { location: "/", "set-cookie": `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
        return void response.end();
      }
      if (path.startsWith("/api/")) {
        const token = authenticate(this.store, request);
        return await routeApi(this, { request, response, url, token });
      }
      if (request.method !== "GET" && request.method !== "HEAD") throw new HttpError(405, `${request.method} is not allowed here`);
      serveAsset(path, response);
    } catch (e) {
      if (e instanceof HttpError) {
        // A body refused half-way is not read to its end: close the connection after answering.
        if (e.status === 413) response.setHeader("connection", "close");
        return sendJson(response, e.status, { error: e.message });
      }
      if (e instanceof UserError) return sendJson(response, /already exists/.test(e.message) ? 409 : 400, { error: e.message });
      this.log(`alfamix: ${request.method} ${request.url}: ${(e as Error).stack ?? e}`);
      if (!response.headersSent) sendJson(response, 500, { error: "internal error (logged by the server)" });
      else response.destroy();
    }
  }

  private login(url: URL, response: ServerResponse): void {
    const token = this.store.tokenBySecret(url.searchParams.get("token") ?? "");
    if (!token) {
      response.writeHead(401, { "content-type": "text/html; charset=utf-8" });
      return void response.end('<!doctype html><meta charset="utf-8"><title>alfamix</title><p>That login link is not valid. Ask for a new one (<code>alfamix token create</code>).</p>');
    }
    // `next` may send the browser on to a page of this site (never elsewhere).
    const next = url.searchParams.get("next") ?? "/";
    const location = /^\/(?!\/)[\w\-./%]*$/.test(next) ? next : "/";
    response.writeHead(302, { location, "set-cookie": sessionCookie(this.store.createSession(token.id)), "cache-control": "no-store" });
    response.end();
  }
}

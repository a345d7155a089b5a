import type { IncomingMessage } from "node:http";
import { networkInterfaces, hostname } from "node:os";
import type { TLSSocket } from "node:tls";
import { badRequest, forbidden } from "./http.js";

export interface GuardOptions {
  /** The address the server listens on. */
  host: string;
  port: number;
  /** The URL people use, when it is not the address (a proxy in front). */
  publicUrl?: string;
  /** Believe X-Forwarded-Proto (set only behind a proxy that sets it). */
  trustProxy: boolean;
}

const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/**
 * Checks on every request that do not depend on who is calling:
 * - the Host header names this server (a DNS-rebinding page on another name is refused);
 * - a request that changes something on the strength of a cookie comes from this origin (Origin,
 *   or Sec-Fetch-Site: same-origin). SameSite=Strict already stops other sites, but not another
 *   port of the same host or a sibling subdomain, which count as the same site.
 */
export class RequestGuard {
  private readonly hosts: Set<string>;
  private readonly publicOrigin?: string;

  constructor(private readonly options: GuardOptions) {
    const names = new Set(["localhost", "127.0.0.1", "[::1]", bracket(options.host)]);
    if (WILDCARD.has(options.host)) {
      names.add(hostname().toLowerCase());
      for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(bracket(a.address));
    }
    this.hosts = new Set([...names].flatMap((n) => [`${n}:${options.port}`, ...(options.port === 80 ? [n] : [])]));
    if (options.publicUrl) {
      const url = new URL(options.publicUrl);
      this.hosts.add(url.host.toLowerCase());
      this.publicOrigin = url.origin;
    }
  }

  /** 400 unless the Host header names this server. */
  checkHost(request: IncomingMessage): void {
    const host = (request.headers.host ?? "").toLowerCase();
    if (!this.hosts.has(host))
      throw badRequest(
        `unknown Host ${JSON.stringify(request.headers.host ?? "")}: this server answers to ${[...this.hosts].slice(0, 3).join(", ")}${this.hosts.size > 3 ? ", …" : ""} (serve --public-url for another name)`,
      );
  }

  /** Whether the browser reached us over HTTPS (directly, or through a trusted proxy). */
  isHttps(request: IncomingMessage): boolean {
    if ((request.socket as TLSSocket).encrypted) return true;
    const forwarded = request.headers["x-forwarded-proto"];
    return this.options.trustProxy && typeof forwarded === "string" && forwarded.split(",")[0].trim().toLowerCase() === "https";
  }

  /** The origin this request was sent to: the public URL's, or the scheme and Host it came with. */
  origin(request: IncomingMessage): string {
    return this.publicOrigin ?? `${this.isHttps(request) ? "https" : "http"}://${request.headers.host}`;
  }

  /**
   * 403 unless the request comes from a page of this origin. Under Referrer-Policy: no-referrer a
   * form's POST carries `Origin: null`; then the browser's own Sec-Fetch-Site (which no page can
   * set) must say same-origin.
   */
  checkSameOrigin(request: IncomingMessage): void {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== "null") {
      const own = `${this.isHttps(request) ? "https" : "http"}://${(request.headers.host ?? "").toLowerCase()}`;
      if (origin === own || origin === this.publicOrigin) return;
      throw forbidden(`refused: a request from ${origin} cannot change anything here (send it from this site, or use Authorization: Bearer)`);
    }
    if (request.headers["sec-fetch-site"] === "same-origin") return;
    throw forbidden(
      "refused: a request authenticated by cookie must come from a page of this site (Origin or Sec-Fetch-Site), so that other pages cannot send it",
    );
  }

  /**
   * 403 for a request the browser says another site or origin started (an <img> on a page of
   * another port fetching /next would lease items). Address-bar visits ("none") and this origin's
   * own pages pass; clients that send no Sec-Fetch-Site are judged by the other checks.
   */
  checkFetchSite(request: IncomingMessage): void {
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none")
      throw forbidden(`refused: this was requested by a page of another origin (Sec-Fetch-Site: ${site})`);
  }
}

const bracket = (address: string) => (address.includes(":") && !address.startsWith("[") ? `[${address}]` : address).toLowerCase();

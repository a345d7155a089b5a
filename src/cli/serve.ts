import { existsSync, rmSync, statSync } from "node:fs";
import { UserError } from "../errors.js";
import { loginLink } from "../serve/api.js";
import { createProject, MAX_LEASE_SECONDS, projectTextModelPath } from "../serve/projects.js";
import { demoProject, DEMO_PROJECT } from "../serve/demo.js";
import { LabelServer } from "../serve/server.js";
import { Store } from "../serve/store/store.js";
import { expiryOf, ROLES } from "../serve/store/tokens.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { table } from "./format.js";
import { statusLine } from "./progress.js";
import { strategySpec, strategyOptionSpecs } from "./strategy-options.js";

export const serveCommand: CommandSpec = {
  name: "serve",
  usage: "alfamix serve --db FILE [--host 127.0.0.1] [--port 8080] [options] | alfamix serve --demo",
  summary: "Run the labelling service: annotators label in the browser, ALFA-Mix picks what comes next, one SQLite file holds everything.",
  options: {
    db: {
      type: "string",
      placeholder: "FILE",
      help: "the SQLite file (created if missing, readable by its owner only)",
      default: "alfamix-demo.db with --demo",
    },
    host: { type: "string", placeholder: "HOST", help: "address to listen on", default: "127.0.0.1" },
    port: { type: "string", placeholder: "N", help: "port to listen on (0: any free port)", default: "8080" },
    "public-url": {
      type: "string",
      placeholder: "URL",
      help: "the address people open, when a proxy stands in front (its host is accepted, login links use it)",
    },
    "trust-proxy": { type: "boolean", help: "believe X-Forwarded-Proto from the proxy in front (cookies are then Secure over HTTPS)" },
    "max-leases": { type: "string", placeholder: "N", help: "items one annotator may hold at once", default: "3" },
    "data-root": {
      type: "string",
      placeholder: "DIR",
      help: "projects created in the browser or the API read files only inside DIR",
      default: "the database's folder",
    },
    "link-hours": { type: "string", placeholder: "H", help: "how long a login link printed by --demo works", default: "24" },
    demo: { type: "boolean", help: "create (or reopen) a demo project of MNIST digits and print a login link" },
  },
};

export async function runServe(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("serve", args.values);
  const demo = options.flag("demo");
  const db = options.string("db") ?? (demo ? "alfamix-demo.db" : undefined);
  if (!db) throw new UserError("serve: --db FILE is required (or --demo for a demo project)");
  const host = options.string("host", "127.0.0.1"),
    port = options.int("port", 8080, 0, 65535);
  const publicUrl = options.string("public-url");
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl))
    throw new UserError(`serve: --public-url must be an origin such as https://label.example.org, got ${JSON.stringify(publicUrl)}`);
  const dataRoot = options.string("data-root");
  if (dataRoot !== undefined && !statSync(dataRoot, { throwIfNoEntry: false })?.isDirectory())
    throw new UserError(`serve: --data-root ${dataRoot} is not a folder`);
  const loginHours = options.number("link-hours", 24, 0.01, 24 * 365);
  let demoToken: number | undefined;
  if (demo) {
    const store = new Store(db);
    try {
      const status = statusLine(false);
      await demoProject(store, (rows) => status.show(`demo: importing MNIST, ${rows}/60000 digits`, rows === 60000));
      status.done();
      // One demo admin for the life of the file; each start prints a fresh single-use link for it.
      const existing = store.tokens.byName(DEMO_TOKEN);
      demoToken =
        existing && existing.revokedAt === null
          ? existing.id
          : store.tokens.create(existing ? `${DEMO_TOKEN}-${Date.now().toString(36)}` : DEMO_TOKEN, "admin", null).id;
    } finally {
      store.close();
    }
  }
  const server = await LabelServer.start({
    db,
    host,
    port,
    publicUrl,
    trustProxy: options.flag("trust-proxy"),
    maxLeases: options.int("max-leases", 3, 1, 1000),
    dataRoot,
    loginHours,
  });
  console.log(`url: ${server.url}`);
  if (demoToken === undefined && !server.store.tokens.list().some((t) => t.role === "admin" && t.revokedAt === null)) {
    console.error(`note: no admin token yet; make one with: alfamix token create --db ${db} --name YOU --role admin`);
  }
  if (demoToken !== undefined) {
    const code = server.store.tokens.createLoginCode(demoToken, loginHours);
    console.log(
      `login: ${loginLink(publicUrl?.replace(/\/$/, "") ?? server.url, code)}&next=/p/${DEMO_PROJECT}   (works once, for ${loginHours} h; then Start labelling: keys 0–9 label a digit, Enter accepts the model's guess, s skips, z undoes)`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
}

const DEMO_TOKEN = "demo";

export const tokenCommand: CommandSpec = {
  name: "token",
  usage: "alfamix token create|list|revoke|link --db FILE [--name NAME] [options]",
  summary:
    "Manage access to the labelling service: create a token (printed once with a single-use login link), list tokens, revoke one, or make a new login link.",
  options: {
    db: { type: "string", placeholder: "FILE", help: "the service's SQLite file" },
    name: { type: "string", placeholder: "NAME", help: "who it is for (unique; shown as the annotator in exports)" },
    role: {
      type: "string",
      placeholder: "admin|reviewer|annotator",
      help: "admins create projects and tokens and import; reviewers also settle disagreements; annotators label",
      default: "annotator",
    },
    project: { type: "string", placeholder: "NAME", help: "limit an annotator's or reviewer's token to one project", default: "every project" },
    expires: { type: "string", placeholder: "30d", help: "the token stops working after this long (m, h, d or w)", default: "never" },
    url: {
      type: "string",
      placeholder: "URL",
      help: "the server's address, for the login link",
      default: "the address the last serve of this database printed",
    },
    "link-hours": { type: "string", placeholder: "H", help: "how long the login link works (it works once)", default: "24" },
  },
  positionals: { min: 1, max: 1 },
};

export async function runToken(args: ParsedArgs): Promise<void> {
  const action = args.positionals[0];
  if (!["create", "list", "revoke", "link"].includes(action))
    throw new UserError(`token: unknown action ${JSON.stringify(action)}; usage: ${tokenCommand.usage}`);
  const options = new OptionReader("token", args.values);
  const db = options.string("db"),
    name = options.string("name");
  if (!db) throw new UserError(`token ${action}: --db FILE is required`);
  if (action !== "list" && !name) throw new UserError(`token ${action}: --name NAME is required`);
  if (action !== "create" && !existsSync(db)) throw new UserError(`token ${action}: no database ${db}`);
  const given = options.string("url")?.replace(/\/$/, "");
  if (given !== undefined && !/^https?:\/\/[^/\s]+$/.test(given))
    throw new UserError(`token: --url must be the server's address such as http://127.0.0.1:8080, got ${JSON.stringify(given)}`);
  const hours = options.number("link-hours", 24, 0.01, 24 * 365);
  const cli = { name: "cli", id: null };
  const store = new Store(db);
  try {
    const url = given ?? store.setting("url") ?? "http://127.0.0.1:8080";
    const assumed = given === undefined && store.setting("url") === undefined;
    if (action === "list") return printTokens(store);
    if (action === "revoke") {
      if (!store.transaction(() => store.tokens.revoke(name!) && (store.audit.append(cli, "token-revoke", {}, { name }), true)))
        throw new UserError(`token revoke: no active token named ${JSON.stringify(name)} in ${db}`);
      console.error(`revoked ${name}: it and every session made from it stop working now`);
      return;
    }
    let tokenId: number, secret: string | undefined;
    if (action === "link") {
      const token = store.tokens.active(name!);
      if (!token) throw new UserError(`token link: no active token named ${JSON.stringify(name)} in ${db}`);
      tokenId = token.id;
      store.audit.append(cli, "token-link", {}, { name });
    } else {
      const role = options.choice("role", ROLES, "annotator");
      const projectName = options.string("project");
      const project = projectName === undefined ? undefined : store.project(projectName);
      if (projectName !== undefined && !project) throw new UserError(`token create: no project ${JSON.stringify(projectName)} in ${db}`);
      const expiresAt = expiryOf(options.string("expires"), "token create: --expires");
      ({ id: tokenId, secret } = store.transaction(() => {
        const created = store.tokens.create(name!, role, project?.id ?? null, expiresAt);
        store.audit.append(cli, "token-create", {}, { name, role, project: projectName ?? null });
        return created;
      }));
    }
    const code = store.tokens.createLoginCode(tokenId, hours);
    if (secret) console.log(`token: ${secret}`);
    console.log(`login: ${loginLink(url, code)}`);
    if (assumed) console.error(`note: the server has not run on ${db} yet, so the link assumes ${url}; pass --url if it will be elsewhere`);
    console.error(
      secret
        ? `the token is for API clients (Authorization: Bearer …) and is shown only now; give ${name} the login link: it works once, for ${hours} h (alfamix token link makes another)`
        : `the link works once, for ${hours} h`,
    );
  } finally {
    store.close();
  }
}

function printTokens(store: Store): void {
  const date = (t: number | null) => (t === null ? "–" : new Date(t).toISOString().slice(0, 16).replace("T", " "));
  const now = Date.now();
  const rows = store.tokens
    .list()
    .map((t) => [
      t.name,
      t.role,
      t.project ?? "every project",
      date(t.createdAt),
      date(t.lastUsedAt),
      t.expiresAt === null ? "never" : date(t.expiresAt),
      t.revokedAt !== null ? `revoked ${date(t.revokedAt)}` : t.expiresAt !== null && t.expiresAt <= now ? "expired" : "active",
    ]);
  console.log(table(["name", "role", "project", "created", "last used", "expires", "status"], rows));
}

export const projectCommand: CommandSpec = {
  name: "project",
  usage: "alfamix project create --db FILE --name NAME --pool FILE [--labeled FILE] [--classes a,b,c] [options] | alfamix project delete --db FILE --name NAME",
  summary: "Create a labelling project from a pool of embeddings (any format alfamix query reads).",
  options: {
    db: { type: "string", placeholder: "FILE", help: "the service's SQLite file (created if missing)" },
    name: { type: "string", placeholder: "NAME", help: "the project's name (letters, digits, . _ -)" },
    pool: { type: "string", placeholder: "FILE", help: "every item: .npy (with X.ids beside it), .csv with an id column, .jsonl {id, embedding}" },
    ids: { type: "string", placeholder: "FILE", help: ".npy pools: one id per line", default: "X.ids beside X.npy, else the row number" },
    labeled: { type: "string", placeholder: "FILE", help: "labels known already: .csv id,label or .jsonl {id, label}" },
    classes: { type: "string", placeholder: "a,b,c", help: "the classes, in the order of their keys (1–9, 0, then letters)", default: "those of --labeled" },
    strategy: { type: "string", placeholder: "NAME", help: "what picks the next batch", default: "alfamix" },
    batch: { type: "string", placeholder: "N", help: "items per batch", default: "50" },
    model: { type: "string", placeholder: "linear|mlp", help: "the head trained on the labels", default: "linear" },
    "random-share": { type: "string", placeholder: "F", help: "share of each batch drawn at random for the live accuracy estimate", default: "0.1" },
    "retrain-every": { type: "string", placeholder: "N", help: "labels between retrains", default: "half the batch" },
    seed: { type: "string", placeholder: "N", help: "seeds training and the strategy", default: "0" },
    "lease-seconds": { type: "string", placeholder: "S", help: "how long an annotator holds an item without a heartbeat (at most 86400)", default: "120" },
    overlap: { type: "string", placeholder: "F", help: "share of labelled items a second annotator labels too, blind (agreement and review)", default: "0" },
    media: { type: "string", placeholder: "DIR", help: "what to show: DIR/<id>.jpg|png|…, or DIR/<id>.txt for text" },
    "media-column": { type: "string", placeholder: "COL", help: "a pool column with each item's image path, relative to --media-root" },
    "media-root": {
      type: "string",
      placeholder: "DIR",
      help: "the folder media-column paths are relative to (nothing outside it is served)",
      default: "the pool file's folder",
    },
    "text-column": { type: "string", placeholder: "COL", help: "a pool column with each item's text" },
    "text-model": {
      type: "string",
      placeholder: "M",
      help: "embed a pool of texts (a table or .jsonl with --text-column, default text; or a folder of .txt) with tfidf or glove-100d fitted on the pool, a .text-model.json from embed --text, or an exported encoder folder (tokenizer.json, model.onnx)",
    },
    ...strategyOptionSpecs,
  },
  positionals: { min: 1, max: 1 },
};

export async function runProject(args: ParsedArgs): Promise<void> {
  const action = args.positionals[0];
  if (action !== "create" && action !== "delete") throw new UserError(`project: unknown action ${JSON.stringify(action)}; usage: ${projectCommand.usage}`);
  const options = new OptionReader("project", args.values);
  if (action === "delete") return deleteProject(options);
  const db = options.string("db"),
    name = options.string("name"),
    pool = options.string("pool");
  if (!db || !name || !pool) throw new UserError("project create: --db FILE, --name NAME and --pool FILE are required");
  const store = new Store(db);
  const status = statusLine(false);
  const notes: string[] = [];
  try {
    const retrainEvery = options.string("retrain-every");
    const project = await createProject(store, {
      name,
      pool,
      ids: options.string("ids"),
      labeled: options.string("labeled"),
      classes: options
        .string("classes")
        ?.split(",")
        .map((c) => c.trim())
        .filter(Boolean),
      strategy: strategySpec(options),
      batch: options.int("batch", 50, 1),
      model: options.choice("model", ["linear", "mlp"] as const, "linear"),
      randomShare: options.number("random-share", 0.1, 0, 1),
      retrainEvery: retrainEvery === undefined ? undefined : options.int("retrain-every", 1, 1),
      seed: options.int("seed", 0),
      leaseSeconds: options.number("lease-seconds", 120, 1, MAX_LEASE_SECONDS),
      overlap: options.number("overlap", 0, 0, 1),
      media: options.string("media"),
      mediaColumn: options.string("media-column"),
      mediaRoot: options.string("media-root"),
      textColumn: options.string("text-column"),
      textModel: options.string("text-model"),
      onProgress: (rows) => status.show(`project: imported ${rows} items`),
      onNote: (line) => notes.push(line),
    });
    status.done();
    store.audit.append({ name: "cli", id: null }, "project-create", { project: project.name }, { pool: project.size, classes: project.classes });
    for (const line of notes) console.error(`note: ${line}`);
    console.error(
      `created project ${project.name}: ${project.size} items × ${project.dim} features, classes ${project.classes.join(", ")}, ${store.labelCount(project.id)} labelled`,
    );
  } finally {
    store.close();
  }
}

/** Delete a project with its items, labels and models (and the tokens limited to it); the audit log keeps the deletion. */
function deleteProject(options: OptionReader): void {
  const db = options.string("db"),
    name = options.string("name");
  if (!db || !name) throw new UserError("project delete: --db FILE and --name NAME are required");
  if (!existsSync(db)) throw new UserError(`project delete: no database ${db}`);
  const store = new Store(db);
  try {
    const project = store.project(name);
    if (!project) throw new UserError(`project delete: no project ${JSON.stringify(name)} in ${db}`);
    const labels = store.labelCount(project.id),
      scoped = store.tokens.list().filter((t) => t.projectId === project.id).length;
    store.transaction(() => {
      store.deleteProject(project.id);
      store.audit.append({ name: "cli", id: null }, "project-delete", { project: name }, { labels, tokens: scoped });
    });
    // The TF-IDF model project create fitted and kept beside the database goes with the project.
    const { display } = project;
    if (display.kind === "text" && display.termPushes === projectTextModelPath(db, name)) {
      for (const file of [display.termPushes, display.termPushes.replace(/\.json$/, ".npy")]) rmSync(file, { force: true });
    }
    console.error(
      `deleted project ${name}: ${project.size} items, ${labels} labels${scoped ? `, and ${scoped} token(s) limited to it` : ""} (a server running on ${db} must be restarted)`,
    );
  } finally {
    store.close();
  }
}

import { UserError } from "../errors.js";
import { createProject } from "../serve/projects.js";
import { demoProject, DEMO_PROJECT } from "../serve/demo.js";
import { LabelServer } from "../serve/server.js";
import { Store } from "../serve/store/store.js";
import { OptionReader, type CommandSpec, type ParsedArgs } from "./args.js";
import { statusLine } from "./progress.js";
import { readStrategyOptions, strategyOptionSpecs } from "./strategy-options.js";

export const serveCommand: CommandSpec = {
  name: "serve",
  usage: "alfamix serve --db FILE [--host 127.0.0.1] [--port 8080] | alfamix serve --demo",
  summary: "Run the labelling service: annotators label in the browser, ALFA-Mix picks what comes next, one SQLite file holds everything.",
  options: {
    db: { type: "string", placeholder: "FILE", help: "the SQLite file (created if missing)", default: "alfamix-demo.db with --demo" },
    host: { type: "string", placeholder: "HOST", help: "address to listen on", default: "127.0.0.1" },
    port: { type: "string", placeholder: "N", help: "port to listen on (0: any free port)", default: "8080" },
    demo: { type: "boolean", help: "create (or reopen) a demo project of MNIST digits and print a login link" },
  },
};

export async function runServe(args: ParsedArgs): Promise<void> {
  const options = new OptionReader("serve", args.values);
  const demo = options.flag("demo");
  const db = options.string("db") ?? (demo ? "alfamix-demo.db" : undefined);
  if (!db) throw new UserError("serve: --db FILE is required (or --demo for a demo project)");
  const host = options.string("host", "127.0.0.1"), port = options.int("port", 8080, 0, 65535);
  let login: string | undefined;
  if (demo) {
    const store = new Store(db);
    try {
      const status = statusLine(false);
      await demoProject(store, (rows) => status.show(`demo: importing MNIST, ${rows}/60000 digits`));
      status.done();
      login = store.createToken("demo", "admin", null);
    } finally {
      store.close();
    }
  }
  const server = await LabelServer.start({ db, host, port });
  console.log(`url: ${server.url}`);
  if (login) console.log(`login: ${server.url}/login?token=${login}&next=/p/${DEMO_PROJECT}   (then Start labelling: keys 0–9 label a digit, Enter accepts the model's guess, s skips, z undoes)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
}

export const tokenCommand: CommandSpec = {
  name: "token",
  usage: "alfamix token create --db FILE --name NAME --role admin|annotator [--project NAME]",
  summary: "Create an access token for the labelling service (printed once; only its hash is stored).",
  options: {
    db: { type: "string", placeholder: "FILE", help: "the service's SQLite file" },
    name: { type: "string", placeholder: "NAME", help: "who it is for (shown as the annotator in exports)" },
    role: { type: "string", placeholder: "admin|annotator", help: "admins create projects and tokens; annotators label", default: "annotator" },
    project: { type: "string", placeholder: "NAME", help: "limit the token to one project", default: "every project" },
  },
  positionals: { min: 1, max: 1 },
};

export async function runToken(args: ParsedArgs): Promise<void> {
  if (args.positionals[0] !== "create") throw new UserError(`token: unknown action ${JSON.stringify(args.positionals[0])}; usage: ${tokenCommand.usage}`);
  const options = new OptionReader("token", args.values);
  const db = options.string("db"), name = options.string("name");
  if (!db || !name) throw new UserError("token create: --db FILE and --name NAME are required");
  const role = options.choice("role", ["admin", "annotator"] as const, "annotator");
  const store = new Store(db);
  try {
    const projectName = options.string("project");
    const project = projectName === undefined ? undefined : store.project(projectName);
    if (projectName !== undefined && !project) throw new UserError(`token create: no project ${JSON.stringify(projectName)} in ${db}`);
    console.log(store.createToken(name, role, project?.id ?? null));
  } finally {
    store.close();
  }
}

export const projectCommand: CommandSpec = {
  name: "project",
  usage: "alfamix project create --db FILE --name NAME --pool FILE [--labeled FILE] [--classes a,b,c] [options]",
  summary: "Create a labelling project from a pool of embeddings (any format alfamix query reads).",
  options: {
    db: { type: "string", placeholder: "FILE", help: "the service's SQLite file (created if missing)" },
    name: { type: "string", placeholder: "NAME", help: "the project's name (letters, digits, . _ -)" },
    pool: { type: "string", placeholder: "FILE", help: "every item: .npy (with X.ids beside it), .csv with an id column, .jsonl {id, embedding}" },
    ids: { type: "string", placeholder: "FILE", help: ".npy pools: one id per line", default: "X.ids beside X.npy, else the row number" },
    labeled: { type: "string", placeholder: "FILE", help: "labels known already: .csv id,label or .jsonl {id, label}" },
    classes: { type: "string", placeholder: "a,b,c", help: "the classes, in the order keys 1–9 pick them", default: "those of --labeled" },
    strategy: { type: "string", placeholder: "NAME", help: "what picks the next batch", default: "alfamix" },
    batch: { type: "string", placeholder: "N", help: "items per batch", default: "50" },
    model: { type: "string", placeholder: "linear|mlp", help: "the head trained on the labels", default: "linear" },
    "random-share": { type: "string", placeholder: "F", help: "share of each batch drawn at random for the live accuracy estimate", default: "0.1" },
    "retrain-every": { type: "string", placeholder: "N", help: "labels between retrains", default: "half the batch" },
    seed: { type: "string", placeholder: "N", help: "seeds training and the strategy", default: "0" },
    "lease-seconds": { type: "string", placeholder: "S", help: "how long an annotator holds an item without a heartbeat", default: "120" },
    media: { type: "string", placeholder: "DIR", help: "images to show: DIR/<id>.jpg|png|…" },
    "media-column": { type: "string", placeholder: "COL", help: "a pool column with each item's image path" },
    "text-column": { type: "string", placeholder: "COL", help: "a pool column with each item's text" },
    ...strategyOptionSpecs,
  },
  positionals: { min: 1, max: 1 },
};

export async function runProject(args: ParsedArgs): Promise<void> {
  if (args.positionals[0] !== "create") throw new UserError(`project: unknown action ${JSON.stringify(args.positionals[0])}; usage: ${projectCommand.usage}`);
  const options = new OptionReader("project", args.values);
  const db = options.string("db"), name = options.string("name"), pool = options.string("pool");
  if (!db || !name || !pool) throw new UserError("project create: --db FILE, --name NAME and --pool FILE are required");
  const store = new Store(db);
  const status = statusLine(false);
  try {
    const retrainEvery = options.string("retrain-every");
    const project = await createProject(store, {
      name, pool, ids: options.string("ids"), labeled: options.string("labeled"),
      classes: options.string("classes")?.split(",").map((c) => c.trim()).filter(Boolean),
      strategy: options.string("strategy", "alfamix"), strategyOptions: readStrategyOptions(options),
      batch: options.int("batch", 50, 1), model: options.choice("model", ["linear", "mlp"] as const, "linear"),
      randomShare: options.number("random-share", 0.1, 0, 1), retrainEvery: retrainEvery === undefined ? undefined : options.int("retrain-every", 1, 1),
      seed: options.int("seed", 0), leaseSeconds: options.number("lease-seconds", 120, 1), media: options.string("media"), mediaColumn: options.string("media-column"), textColumn: options.string("text-column"),
      onProgress: (rows) => status.show(`project: imported ${rows} items`),
    });
    status.done();
    console.error(`created project ${project.name}: ${project.size} items × ${project.dim} features, classes ${project.classes.join(", ")}, ${store.labelCount(project.id)} labelled`);
  } finally {
    store.close();
  }
}

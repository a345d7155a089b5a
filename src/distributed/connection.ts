import { createRequire } from "node:module";
import { UserError } from "../errors.js";

/** Redis connection settings as ioredis and BullMQ take them. */
export interface RedisConnection {
  host: string;
  port: number;
  password?: string;
  db?: number;
  /** BullMQ's workers wait on blocking commands: no retry limit per request. */
  maxRetriesPerRequest: null;
}

/** redis://[:password@]host[:port][/db] as connection settings; anything else is a UserError. */
export function parseQueueUrl(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--queue expects redis://HOST:PORT, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "redis:" || !parsed.hostname) throw new UserError(`--queue expects redis://HOST:PORT, got ${JSON.stringify(url)}`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    throw new UserError(`--queue: the database number must be a non-negative integer, got ${JSON.stringify(parsed.pathname.slice(1))}`);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    maxRetriesPerRequest: null,
  };
}

/** A plain ioredis client (BullMQ makes its own) with the methods the caller uses. */
export function redisClient<T>(options: object): T {
  const Redis = (createRequire(import.meta.url)("ioredis") as { default: new (options: object) => T }).default;
  return new Redis(options);
}

interface PingClient {
  connect(): Promise<void>;
  ping(): Promise<string>;
  disconnect(): void;
  on(event: "error", fn: (e: Error) => void): void;
}

/**
 * The queue's connection, checked: Redis must answer a PING within a few seconds, else one clear
 * line (a UserError, exit 2) instead of BullMQ retrying forever.
 */
export async function checkedConnection(url: string): Promise<RedisConnection> {
  const connection = parseQueueUrl(url);
  const client = redisClient<PingClient>({
    ...connection,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  client.on("error", (e) => (cause ??= e)); // the socket's own error says more than the command's
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new UserError(`cannot reach Redis at ${url} (${(cause ?? (e as Error)).message.split("\n")[0]}); start it (redis-server) or fix --queue`);
  } finally {
    client.disconnect();
  }
  return connection;
}

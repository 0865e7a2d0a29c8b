/**
 * The `curfew` command line (D17): serve, migrate, and the operator's identity and session
 * commands. It works on the configured store directly, through the same composition and core as
 * the server (`openCore`), and prints what the admin API would answer (snake_case JSON).
 *
 * Exit codes: 0 done; 1 refused or failed (an unknown id, as the admin API's 404; a store that
 * did not answer); 2 a usage error; 78 a configuration error (EX_CONFIG).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, loadConfig, type Config } from "../config/load.ts";
import { configurationReference } from "../config/reference.ts";
import { type Core, isCoreError } from "../core/index.ts";
import { AUDIT_EVENT_TYPES, type Actor, type AuditEvent, type AuditEventType, DOORS, type Door, type Identity, type Session } from "../core/model.ts";
import type { AuditQuery } from "../core/ports.ts";
import { isUuid } from "../core/tokens.ts";
import { sessionView } from "../dialects/kratos/door.ts";
import { clientJson, deliveryJson } from "../dialects/oidc/admin.ts";
import { identityJson } from "../dialects/kratos/serialize.ts";
import { auditEventJson, rfc3339 } from "../dialects/kratos/audit.ts";
import type { CurfewServer } from "../server.ts";
import { openCore } from "../open-core.ts";
import { DATA_DIR, SIGNING_KEYS_FILE, readSigningKeys, writeSigningKeys } from "../data-dir.ts";
import { SigningKeys } from "../core/signing-keys.ts";
import { describeDatabaseUrl } from "../storage/sql/connect.ts";
import { SqlStore } from "../storage/sql/sql-store.ts";
import { VERSION } from "../version.ts";

const CLI: Actor = { actor: "cli", door: null };

/** A mistake in how a command was called: exit 2, like commander's own usage errors. */
class UsageError extends Error {}
/** Exit 1, as an unknown id elsewhere. */
class NotFound extends Error {}
/** A refusal the admin API would answer 404 or 409: exit 1, with the reason. */
class Refused extends Error {}

const program = new Command()
  .name("curfew")
  .description("Curfew: a self-hosted session server where logout means logged out.")
  .version(VERSION, "-V, --version", "print the version and exit")
  .addOption(new Option("-c, --config <file>", "YAML configuration file").env("CURFEW_CONFIG"))
  .showHelpAfterError()
  .exitOverride();

function config(): Config {
  return loadConfig({ ...(program.opts().config ? { file: program.opts().config as string } : {}) });
}

/**
 * Where the database is, said on stderr by every command that opens it: relative paths depend on
 * the working directory (D17), and an operator must never act on another database unknowingly.
 * Only `migrate` (and `serve`) may create a SQLite database; every other command refuses to work
 * on one that does not exist, rather than creating an empty one (and a second secret) beside it.
 */
function databaseOf(cfg: Config, { mayCreate }: { mayCreate: boolean }): { created: boolean } {
  const { dialect, location } = describeDatabaseUrl(cfg.databaseUrl);
  if (dialect !== "sqlite" || location === ":memory:") {
    console.error(`curfew: database ${dialect === "sqlite" ? "sqlite::memory:" : `postgres at ${location}`}`);
    return { created: false };
  }
  const file = resolve(location);
  const exists = existsSync(file);
  if (!exists && !mayCreate) {
    throw new Refused(
      `no database at ${file} (database.url "${cfg.databaseUrl}", relative to the working directory). Run this where the server runs, pass --config, or create it with \`curfew migrate\`.`,
    );
  }
  console.error(`curfew: database ${file}${exists ? "" : " (new)"}`);
  return { created: !exists };
}

/** Runs `work` with a core over the configured store, closing the store afterwards. */
async function withCore<T>(work: (core: Core, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config();
  databaseOf(cfg, { mayCreate: false });
  const { core, store } = await openCore(cfg, { secret: "existing" });
  try {
    return await work(core, cfg);
  } finally {
    await store.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

function baseUrlOf(cfg: Config): string {
  return cfg.baseUrl.href.replace(/\/$/, "");
}

/**
 * Sessions as the admin API lists them with `expand=identity` and `expand=devices`: the identity is
 * null for one whose identity was deleted (its row is kept, revoked, D6).
 */
async function sessionViews(core: Core, cfg: Config, sessions: Session[]) {
  const identities = new Map<string, Identity | null>();
  for (const s of sessions) {
    if (identities.has(s.identityId)) continue;
    identities.set(
      s.identityId,
      await core.identities.get(s.identityId).catch((error: unknown) => {
        if (isCoreError(error) && error.code === "IDENTITY_NOT_FOUND") return null;
        throw error;
      }),
    );
  }
  const door = { baseUrl: baseUrlOf(cfg), core };
  return sessions.map((s) => sessionView(door, s, identities.get(s.identityId) ?? null, { admin: true, devices: true }));
}

function uuidArgument(what: string) {
  return (value: string): string => {
    if (!isUuid(value)) throw new InvalidArgumentError(`not ${what} id (a UUID).`);
    return value;
  };
}

function limitOption(value: string): number {
  if (!/^[0-9]{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new InvalidArgumentError("a whole number from 1 to 1000.");
  }
  return Number(value);
}

program
  .command("serve")
  .description("serve the public and admin APIs")
  .action(async () => {
    // SIGHUP: the signing keys again (after `curfew signing-keys rotate`, or a new
    // oidc.signing_keys). Installed first, so a SIGHUP while starting does not end the process
    // (Node's default); reloads run one after another, so the last one sent is the one that holds.
    let server: CurfewServer | null = null;
    let reloads = Promise.resolve();
    process.on("SIGHUP", () => {
      reloads = reloads.then(() => reloadKeys(server));
    });
    // Only `serve` loads the HTTP doors: every other command starts without them (ADR 0023).
    const { createServer } = await import("../server.ts");
    server = await createServer(config());
    const listening = await server.listen();
    const where = (bound: string) => (/^(0\.0\.0\.0|\[::\]):/.test(bound) ? `${bound}: every interface` : bound);
    server.publicApp.log.info(
      `public API ${server.config.baseUrl.href} (bound to ${where(listening.publicBound)}); admin API bound to ${where(listening.adminBound)}; docs at /docs`,
    );
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: the operator does not want to wait for in-flight requests.
        console.error(`curfew: ${signal} again; exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      server.publicApp.log.info(`${signal}: no new connections; finishing in-flight requests and pending commits`);
      // In-flight requests finish and every pending commit lands before the store closes, so no
      // logout that was answered is lost. A close that fails still exits, non-zero.
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`curfew: shutting down: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    // npm runs a package's command through `sh -c`, and sh does not pass a SIGTERM on: stopping
    // `npx curfew serve` would stop npm and sh and leave this server running, orphaned, on both
    // ports. (`npm start` execs, so there npm itself is the parent, and npm forwards signals.) So
    // when npm started us, the end of the process that started us is our signal to stop too.
    if (process.env.npm_lifecycle_event !== undefined) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid === parent) return;
        clearInterval(watch);
        stop("SIGTERM");
      }, 250);
      watch.unref();
    }
  });

/** One SIGHUP's reload; never throws (a refused set keeps the current keys, and says why). */
async function reloadKeys(server: CurfewServer | null): Promise<void> {
  if (server === null) {
    console.error("curfew: SIGHUP while starting: the keys being loaded are already the current ones");
    return;
  }
  try {
    const kids = await server.reloadSigningKeys(config());
    server.publicApp.log.info(`SIGHUP: signing keys reloaded; ${kids[0]} signs, ${kids.length} in the JWKS`);
  } catch (error) {
    server.publicApp.log.error(`SIGHUP: signing keys unchanged: ${(error as Error).message}`);
  }
}

program
  .command("migrate")
  .description("create or update the database schema, then exit")
  .action(async () => {
    const cfg = config();
    databaseOf(cfg, { mayCreate: true });
    const store = await SqlStore.open(cfg.databaseUrl, { migrate: false, postgres: cfg.postgres });
    try {
      const applied = await store.migrate();
      console.log(applied.length > 0 ? `applied ${applied.length} migration(s): ${applied.join(", ")}` : "database is up to date; nothing to apply");
    } finally {
      await store.close();
    }
  });

const identities = program.command("identities").description("manage identities");
identities
  .command("create")
  .description("create an identity with a password")
  .requiredOption("--email <email>", "email address (an identifier)")
  .option("--username <username>", "username (an identifier)")
  .addOption(new Option("--password <password>", "password (prefer CURFEW_PASSWORD: arguments show in ps)").env("CURFEW_PASSWORD"))
  .option("--no-password", "create the identity without a password: it cannot sign in until one is set")
  .action(async (o: { email: string; username?: string; password?: string | boolean }) => {
    if (o.password === undefined || o.password === true) {
      throw new UsageError("a password is needed: set CURFEW_PASSWORD (or --password), or pass --no-password for an identity that cannot sign in yet");
    }
    const password = o.password;
    await withCore(async (core, cfg) => {
      const identity = await core.identities.create(
        { traits: { email: o.email, ...(o.username ? { username: o.username } : {}) }, ...(password !== false ? { password } : {}) },
        "cli",
      );
      print(identityJson(identity, { baseUrl: baseUrlOf(cfg), admin: true }));
    });
  });
identities
  .command("list")
  .description("list identities")
  .option("--identifier <identifier>", "only the identity with this email or username")
  .option("--limit <n>", "how many (1 to 1000)", limitOption, 100)
  .action(async (o: { identifier?: string; limit: number }) => {
    await withCore(async (core, cfg) => {
      const page = await core.identities.list({ limit: o.limit, ...(o.identifier ? { identifier: o.identifier } : {}) });
      print(page.items.map((identity) => identityJson(identity, { baseUrl: baseUrlOf(cfg), admin: true })));
    });
  });
identities
  .command("update")
  .description("change an identity's email, username or state; `--state inactive` ends every session of it and refuses its sign-in")
  .argument("<identity-id>", "the identity's id", uuidArgument("an identity"))
  .option("--email <email>", "a new email address")
  .option("--username <username>", "a new username")
  .addOption(new Option("--state <state>", "active, or inactive").choices(["active", "inactive"]))
  .action(async (id: string, o: { email?: string; username?: string; state?: "active" | "inactive" }) => {
    if (o.email === undefined && o.username === undefined && o.state === undefined) throw new UsageError("give at least one of --email, --username, --state");
    await withCore(async (core, cfg) => {
      const current = await core.identities.get(id);
      const traits = { ...current.traits, ...(o.email !== undefined ? { email: o.email } : {}), ...(o.username !== undefined ? { username: o.username } : {}) };
      const { identity, ended } = await core.identities.update(id, { traits, ...(o.state ? { state: o.state } : {}) }, CLI);
      if (ended > 0) console.error(`curfew: ended ${ended} session(s) of ${id}`);
      print(identityJson(identity, { baseUrl: baseUrlOf(cfg), admin: true }));
    });
  });
identities
  .command("set-password")
  .description("reset an identity's password, read from CURFEW_PASSWORD or standard input (never an argument); ends every session of it")
  .argument("<identity-id>", "the identity's id", uuidArgument("an identity"))
  .action(async (id: string) => {
    const password = process.env.CURFEW_PASSWORD ?? (process.stdin.isTTY ? undefined : await readStdinLine());
    if (!password) throw new UsageError("the new password comes from CURFEW_PASSWORD or standard input (one line), never from an argument");
    await withCore(async (core) => {
      const { ended } = await core.identities.update(id, { password }, CLI);
      console.log(`password reset for ${id}; ended ${ended} session(s)`);
    });
  });

/** The first line of standard input, without its line ending (a password piped in). */
async function readStdinLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n") || text.length > 8192) break;
  }
  return text.split(/\r?\n/, 1)[0] ?? "";
}

identities
  .command("delete")
  .description("revoke every session of an identity, then delete it")
  .argument("<identity-id>", "the identity's id", uuidArgument("an identity"))
  .action(async (id: string) => {
    await withCore(async (core) => {
      await core.identities.delete(id, CLI);
      console.log(`deleted identity ${id}`);
    });
  });

const sessions = program.command("sessions").description("list and revoke sessions");
sessions
  .command("list")
  .description("list sessions, newest first")
  .addOption(new Option("--identity <identity-id>", "only this identity's sessions").argParser(uuidArgument("an identity")))
  .option("--active", "only live sessions")
  .option("--limit <n>", "how many (1 to 1000)", limitOption, 100)
  .action(async (o: { identity?: string; active?: boolean; limit: number }) => {
    await withCore(async (core, cfg) => {
      const page = await core.sessions.list({ limit: o.limit, ...(o.identity ? { identityId: o.identity } : {}), ...(o.active ? { active: true } : {}) });
      print(await sessionViews(core, cfg, page.items));
    });
  });
sessions
  .command("revoke")
  .description("revoke one session, or with --identity every session of an identity")
  .argument("[session-id]", "the session's id", uuidArgument("a session"))
  .addOption(new Option("--identity <identity-id>", "revoke every live session of this identity").argParser(uuidArgument("an identity")))
  .action(async (sessionId: string | undefined, o: { identity?: string }) => {
    if (sessionId !== undefined && o.identity !== undefined) throw new UsageError("give either a session id or --identity <identity-id>, not both");
    if (sessionId === undefined && o.identity === undefined) throw new UsageError("give a session id or --identity <identity-id>");
    await withCore(async (core) => {
      if (o.identity !== undefined) {
        await core.identities.get(o.identity); // IDENTITY_NOT_FOUND, as the admin API's 404
        const { ended } = await core.logout({ kind: "identity", identityId: o.identity }, "revoked_by_admin", CLI);
        console.log(`revoked ${ended.length} session(s)${ended.length ? ": " + ended.map((s) => s.id).join(", ") : ""}`);
        return;
      }
      const session = await core.sessions.get(sessionId!); // SESSION_NOT_FOUND, as the admin API's 404
      const { ended } = await core.logout({ kind: "session", sessionId: session.id }, "revoked_by_admin", CLI);
      console.log(ended.length > 0 ? `revoked 1 session(s): ${session.id}` : `revoked 0 session(s): ${session.id} had already ended`);
    });
  });

const audit = program.command("audit").description("the audit trail: sign-ins, failed sign-ins, lockouts, session ends, identity changes");
audit
  .command("list")
  .description("list audit events, newest first, as GET /admin/audit answers; with --follow, then each new one as it is written")
  .addOption(new Option("--identity <identity-id>", "only this identity's events").argParser(uuidArgument("an identity")))
  .addOption(new Option("--session <session-id>", "only this session's events").argParser(uuidArgument("a session")))
  .addOption(new Option("--type <type>", "only events of this type").choices(AUDIT_EVENT_TYPES))
  .addOption(new Option("--door <door>", "only events through this door").choices(DOORS))
  .option("--since <date-time>", "events at or after this instant (RFC 3339)", instantOption)
  .option("--until <date-time>", "events before this instant (RFC 3339)", instantOption)
  .option("--limit <n>", "how many (1 to 1000)", limitOption, 100)
  .option("--follow", "keep running: print the newest events oldest first, then each new one, one JSON object per line, until interrupted")
  .action(async (o: { identity?: string; session?: string; type?: AuditEventType; door?: Door; since?: Date; until?: Date; limit: number; follow?: boolean }) => {
    const query: AuditQuery = {
      limit: o.limit,
      ...(o.identity ? { identityId: o.identity } : {}),
      ...(o.session ? { sessionId: o.session } : {}),
      ...(o.type ? { type: o.type } : {}),
      ...(o.door ? { door: o.door } : {}),
      ...(o.since ? { since: o.since } : {}),
      ...(o.until ? { until: o.until } : {}),
    };
    await withCore(async (core) => {
      const first = await core.audit.list(query);
      if (!o.follow) return print(first.items.map(auditEventJson));
      await followAudit(core, query, first.items);
    });
  });

/**
 * `audit list --follow`: what was there, oldest first, then each new event once a second, until
 * SIGINT or SIGTERM. An event's instant is taken before its commit, and several nodes write, so
 * an event can land behind one already printed: each poll looks back OVERLAP_MS and skips the ids
 * it has printed (those of the last OVERLAP_MS and more are remembered), so none is missed or
 * printed twice.
 */
const OVERLAP_MS = 30_000;
async function followAudit(core: Core, query: AuditQuery, newest: AuditEvent[]): Promise<void> {
  let stopped = false;
  const stop = () => (stopped = true);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const printed = new Map<string, number>();
  const emit = (events: AuditEvent[]) => {
    for (const e of events) {
      printed.set(e.id, e.at.getTime());
      process.stdout.write(JSON.stringify(auditEventJson(e)) + "\n");
    }
  };
  /** Every event since `since` that has not been printed, newest first. */
  const unprinted = async (since: Date): Promise<AuditEvent[]> => {
    const found: AuditEvent[] = [];
    for (let cursor: string | null | undefined; ; ) {
      const page = await core.audit.list({ ...query, since, limit: 1000, ...(cursor ? { cursor } : {}) });
      found.push(...page.items.filter((e) => !printed.has(e.id)));
      if (!page.next) return found;
      cursor = page.next;
    }
  };
  emit([...newest].reverse());
  let latest = newest[0]?.at.getTime() ?? query.since?.getTime() ?? Date.now();
  const lookBack = () => new Date(Math.max(latest - OVERLAP_MS, query.since?.getTime() ?? 0));
  // What was there at the start but left out by --limit is not new: only later commits are.
  for (const e of await unprinted(lookBack())) printed.set(e.id, e.at.getTime());
  while (!stopped) {
    await new Promise((r) => setTimeout(r, 1_000));
    if (stopped) break;
    const fresh = await unprinted(lookBack());
    if (fresh.length > 0) {
      emit(fresh.reverse());
      latest = Math.max(latest, ...fresh.map((e) => e.at.getTime()));
    }
    // Forget what no later poll can see again.
    for (const [id, at] of printed) if (at < latest - 2 * OVERLAP_MS) printed.delete(id);
  }
}

function instantOption(value: string): Date {
  const at = rfc3339(value);
  if (at === null) throw new InvalidArgumentError("an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z.");
  return at;
}

const deliveries = program.command("deliveries").description("the back-channel logout notices owed to apps (the outbox)");
const DELIVERY_STATUSES = ["pending", "delivered", "failed", "cancelled"] as const;
deliveries
  .command("list")
  .description("list notices, newest first, as GET /admin/deliveries answers")
  .addOption(new Option("--status <status>", "only these").choices(DELIVERY_STATUSES))
  .option("--client-id <client-id>", "only this app's")
  .addOption(new Option("--session <session-id>", "only this session's").argParser(uuidArgument("a session")))
  .option("--limit <n>", "how many (1 to 1000)", limitOption, 100)
  .action(async (o: { status?: (typeof DELIVERY_STATUSES)[number]; clientId?: string; session?: string; limit: number }) => {
    await withCore(async (core) => {
      const rows = await core.deliveries.list({
        limit: o.limit,
        ...(o.status ? { status: o.status } : {}),
        ...(o.clientId ? { clientId: o.clientId } : {}),
        ...(o.session ? { sessionId: o.session } : {}),
      });
      print(rows.map(deliveryJson));
    });
  });
deliveries
  .command("retry")
  .description("send a pending, failed or cancelled notice again; a running server sends it within a second")
  .argument("<delivery-id>", "the notice's id", uuidArgument("a delivery"))
  .action(async (id: string) => {
    await withCore(async (core) => {
      if (!(await core.deliveries.retry(id))) throw new NotFound("no undelivered notice with that id");
      console.log(`due again: ${id}`);
    });
  });

const clients = program.command("clients").description("the relying apps of single sign-on, as /admin/clients (apps of configuration are changed there)");
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
clients
  .command("create")
  .description("register an app; prints it with its generated secret, shown this once")
  .option("--client-id <id>", "the app's client_id (default: generated)")
  .addOption(new Option("--auth-method <method>", "token_endpoint_auth_method; none is a public app (PKCE)").choices(AUTH_METHODS).default("client_secret_basic"))
  // No default: commander counts a default as given, and a required option would never be missing.
  .requiredOption("--redirect-uri <uri>", "where codes may go, exactly (repeat for more)", collect)
  .option("--post-logout-redirect-uri <uri>", "an RP-Initiated Logout target (repeatable)", collect, [])
  .option("--allowed-logout-url <url>", "an Auth0 /v2/logout returnTo pattern (repeatable)", collect, [])
  .option("--web-origin <origin>", "an origin whose pages may call the token endpoint (repeatable)", collect, [])
  .option("--backchannel-logout-uri <uri>", "where logout tokens are POSTed")
  .option("--frontchannel-logout-uri <uri>", "framed by the signed-out page")
  .action(
    async (o: {
      clientId?: string;
      authMethod: (typeof AUTH_METHODS)[number];
      redirectUri: string[];
      postLogoutRedirectUri: string[];
      allowedLogoutUrl: string[];
      webOrigin: string[];
      backchannelLogoutUri?: string;
      frontchannelLogoutUri?: string;
    }) => {
      await withCore(async (core) => {
        const created = await core.apps.create({
          client_id: o.clientId,
          token_endpoint_auth_method: o.authMethod,
          redirect_uris: o.redirectUri,
          post_logout_redirect_uris: o.postLogoutRedirectUri,
          allowed_logout_urls: o.allowedLogoutUrl,
          web_origins: o.webOrigin,
          backchannel_logout_uri: o.backchannelLogoutUri,
          backchannel_logout_session_required: false,
          frontchannel_logout_uri: o.frontchannelLogoutUri,
          frontchannel_logout_session_required: false,
        });
        if ("refused" in created) {
          if (created.refused === "invalid") throw new UsageError(created.problems.join("; "));
          throw new Refused(`an app with client_id ${JSON.stringify(o.clientId)} exists already`);
        }
        print(clientJson(created.app, created.secret));
      });
    },
  );
clients
  .command("list")
  .description("every app, of configuration and of the admin API (no secrets)")
  .action(async () => {
    await withCore(async (core) => print((await core.apps.list()).map((a) => clientJson(a))));
  });
clients
  .command("get")
  .description("one app")
  .argument("<client-id>")
  .action(async (id: string) => {
    await withCore(async (core) => {
      const found = await core.apps.find(id);
      if (!found) throw new NotFound("no app with that client_id");
      print(clientJson(found));
    });
  });
clients
  .command("delete")
  .description("delete an app of the admin API, with its codes, tokens and participation")
  .argument("<client-id>")
  .action(async (id: string) => {
    await withCore(async (core) => {
      const removed = await core.apps.remove(id);
      if (removed !== true) {
        throw removed.refused === "configured" ? new Refused("that app is defined in configuration (oidc.clients); remove it there") : new NotFound("no app with that client_id");
      }
      console.log(`deleted: ${id}`);
    });
  });

program
  .command("signing-keys")
  .description("the provider's RS256 keys kept in the data directory (D3)")
  .command("rotate")
  .description("a new key signs from now on; the two newest old ones stay in the JWKS. Then send the server SIGHUP")
  .action(async () => {
    const cfg = config();
    if (cfg.oidc.signingKeys !== null) {
      throw new Refused("the signing keys come from configuration (oidc.signing_keys): rotate them there, a new key first and the old ones after it, then send SIGHUP");
    }
    const kept = readSigningKeys(DATA_DIR);
    if (kept === null) throw new NotFound(`no signing keys kept in ${resolve(DATA_DIR, SIGNING_KEYS_FILE)}; the server generates them at its first start`);
    // A kept set that does not load is not rotated into a second broken one.
    await SigningKeys.load(kept);
    const rotated = await SigningKeys.rotated(kept);
    writeSigningKeys(DATA_DIR, rotated);
    console.log(`new signing key ${rotated.keys[0]!.kid as string}; kept ${rotated.keys.length - 1} old. Send the running server SIGHUP to use it.`);
  });

program
  .command("config")
  .description("configuration helpers")
  .command("reference")
  .description("print the configuration reference (Markdown)")
  .action(() => {
    process.stdout.write(configurationReference());
  });

const NOT_FOUND = { IDENTITY_NOT_FOUND: "no identity with that id", SESSION_NOT_FOUND: "no session with that id" } as Record<string, string>;

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help); a usage error exits 2, help and version 0.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof ConfigError) {
    console.error(`curfew: ${error.message}`);
    process.exit(78); // EX_CONFIG
  }
  if (error instanceof UsageError) {
    console.error(`curfew: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof NotFound) {
    console.error(`curfew: ${error.message}`);
    process.exit(1);
  }
  if (isCoreError(error)) {
    console.error(`curfew: ${NOT_FOUND[error.code] ?? error.message}`);
    process.exit(1);
  }
  console.error(`curfew: ${(error as Error).message}`);
  process.exit(1);
}

/**
 * The `curfew` command line (D17): serve, migrate, and the operator's identity and session
 * commands. It works on the configured store directly, through the same core as the server.
 */
import { Command, Option } from "commander";
import { ConfigError, loadConfig, type Config } from "../config/load.ts";
import { configurationReference } from "../config/reference.ts";
import { argon2Hasher } from "../crypto/argon2-hasher.ts";
import { createCore, isCoreError, type Core } from "../core/index.ts";
import { systemClock } from "../core/ports.ts";
import { createServer, loadOrCreateSecret, openStore } from "../server.ts";

const program = new Command()
  .name("curfew")
  .description("Curfew: a self-hosted session server where logout means logged out.")
  .addOption(new Option("-c, --config <file>", "YAML configuration file").env("CURFEW_CONFIG"))
  .showHelpAfterError();

function config(): Config {
  return loadConfig({ ...(program.opts().config ? { file: program.opts().config as string } : {}) });
}

/** Runs `work` with a core over the configured store, closing the store afterwards. */
async function withCore<T>(work: (core: Core) => Promise<T>): Promise<T> {
  const cfg = config();
  const store = await openStore(cfg);
  try {
    const secret = cfg.secret ?? loadOrCreateSecret("data", (m) => console.error(m));
    return await work(createCore({ store, hasher: argon2Hasher(cfg.argon2), clock: systemClock, settings: { ...cfg.core, secret } }));
  } finally {
    await store.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

program
  .command("serve")
  .description("serve the public and admin APIs")
  .action(async () => {
    const server = await createServer(config());
    const { publicUrl, adminUrl } = await server.listen();
    server.publicApp.log.info(`public API on ${server.config.baseUrl.href} (listening at ${publicUrl}); admin API on ${adminUrl}; docs at /docs`);
    const stop = () => {
      // Let in-flight requests (and their commits) finish; a close that fails still exits, non-zero.
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`curfew: shutting down: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

program
  .command("migrate")
  .description("create or update the database schema, then exit")
  .action(async () => {
    const store = await openStore(config());
    await store.close();
    console.log("database is up to date");
  });

const identities = program.command("identities").description("manage identities");
identities
  .command("create")
  .description("create an identity with a password")
  .requiredOption("--email <email>", "email address (an identifier)")
  .option("--username <username>", "username (an identifier)")
  .addOption(new Option("--password <password>", "password (prefer CURFEW_PASSWORD: arguments show in ps)").env("CURFEW_PASSWORD"))
  .action(async (o: { email: string; username?: string; password?: string }) => {
    await withCore(async (core) => print(await core.identities.create({ traits: { email: o.email, ...(o.username ? { username: o.username } : {}) }, ...(o.password ? { password: o.password } : {}) }, "cli")));
  });
identities
  .command("list")
  .description("list identities")
  .option("--identifier <identifier>", "only the identity with this email or username")
  .option("--limit <n>", "how many", "100")
  .action(async (o: { identifier?: string; limit: string }) => {
    await withCore(async (core) => print((await core.identities.list({ limit: Number(o.limit), ...(o.identifier ? { identifier: o.identifier } : {}) })).items));
  });
identities
  .command("delete <id>")
  .description("revoke every session of an identity, then delete it")
  .action(async (id: string) => {
    await withCore(async (core) => {
      await core.identities.delete(id, "cli");
      console.log(`deleted identity ${id}`);
    });
  });

const sessions = program.command("sessions").description("list and revoke sessions");
sessions
  .command("list")
  .description("list sessions, newest first")
  .option("--identity <id>", "only this identity's sessions")
  .option("--active", "only live sessions")
  .option("--limit <n>", "how many", "100")
  .action(async (o: { identity?: string; active?: boolean; limit: string }) => {
    await withCore(async (core) => {
      const page = await core.sessions.list({ limit: Number(o.limit), ...(o.identity ? { identityId: o.identity } : {}), ...(o.active ? { active: true } : {}) });
      print(page.items.map(({ secretHash: _hidden, ...s }) => ({ ...s, active: core.sessions.isLive({ ...s, secretHash: "" }) })));
    });
  });
sessions
  .command("revoke [session-id]")
  .description("revoke one session, or with --identity all of an identity's sessions")
  .option("--identity <id>", "revoke every live session of this identity")
  .action(async (sessionId: string | undefined, o: { identity?: string }) => {
    if (!sessionId === !o.identity) throw new Error("give a session id or --identity, not both");
    await withCore(async (core) => {
      const by = { actor: "cli", door: null };
      const ended = o.identity
        ? await core.sessions.revoke({ kind: "identity", identityId: o.identity }, "revoked_by_admin", by)
        : await core.sessions.revoke({ kind: "session", sessionId: sessionId! }, "revoked_by_admin", by);
      console.log(`revoked ${ended.length} session(s)${ended.length ? ": " + ended.join(", ") : ""}`);
    });
  });

program
  .command("config")
  .description("configuration helpers")
  .command("reference")
  .description("print the configuration reference (Markdown)")
  .action(() => {
    process.stdout.write(configurationReference());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`curfew: ${error.message}`);
    process.exit(78); // EX_CONFIG
  }
  if (isCoreError(error)) {
    console.error(`curfew: ${error.message}`);
    process.exit(1);
  }
  console.error(`curfew: ${(error as Error).message}`);
  process.exit(1);
}

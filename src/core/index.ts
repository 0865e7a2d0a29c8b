/** The session core every door shares. No HTTP, no SQL: only ports (DESIGN.md "Four doors, one core"). */
import { asStoreFailure } from "./errors.ts";
import { Flows } from "./flows.ts";
import { Identities } from "./identities.ts";
import type { Clock, PasswordHasher, Store } from "./ports.ts";
import { Sessions } from "./sessions.ts";
import type { CoreSettings } from "./settings.ts";

export interface CoreDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  settings: CoreSettings;
}

export interface Core {
  readonly clock: Clock;
  readonly settings: CoreSettings;
  readonly identities: Identities;
  readonly sessions: Sessions;
  readonly flows: Flows;
  /** Resolves when the store answers; throws STORE_UNAVAILABLE otherwise. */
  ready(): Promise<void>;
  /** One pass of housekeeping: purge ended sessions past retention and expired flows. */
  purge(): Promise<{ sessions: number; flows: number }>;
}

export function createCore({ store, hasher, clock, settings }: CoreDeps): Core {
  const sessions = new Sessions(store, hasher, clock, settings);
  const flows = new Flows(store, clock, settings.flows);
  return {
    clock,
    settings,
    identities: new Identities(store, hasher, clock),
    sessions,
    flows,
    ready: () =>
      store.ping().catch((e: unknown) => {
        throw asStoreFailure(e);
      }),
    purge: async () => ({ sessions: await sessions.purge(), flows: await flows.purge() }),
  };
}

export { CoreError, isCoreError, type CoreErrorCode } from "./errors.ts";
export type * from "./model.ts";
export type { Clock, PasswordHasher, Store } from "./ports.ts";
export type { CoreSettings } from "./settings.ts";

/**
 * Self-service login and registration flows: a stored, short-lived record that a client first
 * fetches (to render its form) and then submits against. Kratos's model (research/kratos.md §4),
 * kept door-neutral so the built-in pages and any later door can share it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { CoreError, asStoreFailure } from "./errors.ts";
import type { Flow, FlowKind, FlowType } from "./model.ts";
import type { Clock, Store } from "./ports.ts";
import type { CoreSettings } from "./settings.ts";
import { isUuid } from "./tokens.ts";

export class Flows {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settings: CoreSettings["flows"],
  ) {}

  async create(type: FlowType, kind: FlowKind, requestUrl: string, returnTo: string | null): Promise<Flow> {
    if (type === "registration" && !this.settings.registrationEnabled) {
      throw new CoreError("REGISTRATION_DISABLED", "Registration is not allowed because it was disabled.");
    }
    const now = this.clock.now();
    const flow: Flow = {
      id: randomUUID(),
      type,
      kind,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.settings.lifespanMs[type]),
      requestUrl,
      returnTo,
      csrfToken: kind === "browser" ? randomBytes(32).toString("base64url") : null,
    };
    await this.store.insertFlow(flow).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return flow;
  }

  /** The flow of that id and type; FLOW_NOT_FOUND for anything else, FLOW_EXPIRED when stale. */
  async get(id: string, type: FlowType): Promise<Flow> {
    if (!isUuid(id)) throw new CoreError("FLOW_NOT_FOUND", "The flow query parameter is missing or malformed.");
    const flow = await this.store.findFlow(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!flow || flow.type !== type) throw new CoreError("FLOW_NOT_FOUND", "Unable to locate the resource");
    if (flow.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new CoreError("FLOW_EXPIRED", "The self-service flow expired, initialize a new one.", {
        expiredAt: flow.expiresAt,
      });
    }
    return flow;
  }

  async purge(): Promise<number> {
    return this.store.purgeFlows(this.clock.now()).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }
}

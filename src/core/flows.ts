/**
 * Self-service login and registration flows: a stored, short-lived record that a client first
 * fetches (to render its form) and then submits against. Kratos's model of self-service flows,
 * kept door-neutral so the built-in pages and any later door can share it.
 */
import { CoreError, asStoreFailure } from "./errors.ts";
import type { Flow, FlowKind, FlowType, StoredError } from "./model.ts";
import type { Clock, Store } from "./ports.ts";
import type { CoreSettings } from "./settings.ts";
import { isUuid } from "./tokens.ts";
import type { RequestLimits } from "./request-limits.ts";
import { newId } from "./ids.ts";

/** How long an error shown to a browser stays readable at the error page. */
export const ERROR_RETENTION_MS = 24 * 3_600_000;

export class Flows {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settings: CoreSettings["flows"],
    private readonly limits: RequestLimits,
  ) {}

  /**
   * A new flow. Browser flows carry `csrfToken`, the masked form of the CSRF cookie's secret
   * (src/core/csrf.ts), which the flow's form echoes back.
   */
  async create(
    type: FlowType,
    kind: FlowKind,
    requestUrl: string,
    returnTo: string | null,
    csrfToken: string | null = null,
    options: { refresh?: boolean; ip?: string | null; identityId?: string } = {},
  ): Promise<Flow> {
    if (type === "settings" && options.identityId === undefined) throw new Error("a settings flow belongs to an identity");
    if (type === "registration" && !this.settings.registrationEnabled) {
      throw new CoreError("REGISTRATION_DISABLED", "Registration is not allowed because it was disabled.");
    }
    // SEC-101: every flow is a row anyone can make; one address makes a bounded number.
    await this.limits.admit("flow", options.ip ?? null);
    const now = this.clock.now();
    const flow: Flow = {
      id: newId(),
      type,
      kind,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.settings.lifespanMs[type]),
      requestUrl,
      returnTo,
      csrfToken,
      view: null,
      refresh: type === "login" && options.refresh === true,
      identityId: type === "settings" ? options.identityId! : null,
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

  /** The flow of that id and type even when expired (to replace it), or null. */
  async findAny(id: string, type: FlowType): Promise<Flow | null> {
    if (!isUuid(id)) return null;
    const flow = await this.store.findFlow(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return flow && flow.type === type ? flow : null;
  }

  /** Keeps a flow's view (echoed values and messages) for the form page to show. */
  async saveView(flowId: string, view: unknown): Promise<void> {
    await this.store.saveFlowView(flowId, view).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** Keeps an error for a browser sent to the error page; returns its id. RATE_LIMITED past the address's share (SEC-101). */
  async recordError(error: unknown, ip: string | null = null): Promise<string> {
    await this.limits.admit("stored-error", ip);
    const stored: StoredError = { id: newId(), createdAt: this.clock.now(), error };
    await this.store.insertError(stored).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return stored.id;
  }

  /** A kept error, or FLOW_NOT_FOUND (errors live a day: ERROR_RETENTION_MS). */
  async getError(id: string): Promise<StoredError> {
    if (!isUuid(id)) throw new CoreError("FLOW_NOT_FOUND", "Unable to locate the resource");
    const found = await this.store.findError(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!found) throw new CoreError("FLOW_NOT_FOUND", "Unable to locate the resource");
    return found;
  }

  async purge(): Promise<number> {
    const now = this.clock.now();
    return this.store
      .purgeFlows(now)
      .then(async (flows) => flows + (await this.store.purgeErrors(new Date(now.getTime() - ERROR_RETENTION_MS))))
      .catch((e: unknown) => {
        throw asStoreFailure(e);
      });
  }
}

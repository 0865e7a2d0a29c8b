/**
 * Login and registration flows as Kratos serialises them (spec/api.json `loginFlow`): the node set
 * of the password method in the `unified` login style and the one-step registration style.
 * Ory's SDK deserialisers need `ui.nodes` and every node's `messages` to be arrays.
 */
import type { Static } from "typebox";
import type { Flow } from "../../core/model.ts";
import type * as W from "./wire.ts";

export interface UiText {
  id: number;
  text: string;
  type: "info" | "error" | "success";
  context?: Record<string, unknown>;
}

interface InputNode {
  type: "input";
  group: string;
  attributes: Record<string, unknown>;
  messages: UiText[];
  meta: Record<string, unknown>;
}

/** Message ids and texts as Kratos's text package gives them. */
export const TEXT = {
  credentialsInvalid: (): UiText => ({
    id: 4000006,
    text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
    type: "error",
  }),
  missing: (property: string): UiText => ({
    id: 4000002,
    text: `Property ${property} is missing.`,
    type: "error",
    context: { property },
  }),
  invalid: (text: string): UiText => ({ id: 4000001, text, type: "error" }),
  duplicate: (): UiText => ({
    id: 4000007,
    text: "An account with the same identifier (email, phone, username, ...) exists already.",
    type: "error",
  }),
  passwordPolicy: (text: string): UiText => ({ id: 4000005, text: `The password can not be used because ${text}`, type: "error" }),
  settingsSaved: (): UiText => ({ id: 1050001, text: "Your changes have been saved!", type: "success" }),
};

function input(
  group: string,
  name: string,
  type: string,
  label: UiText | null,
  extra: Record<string, unknown> = {},
): InputNode {
  return {
    type: "input",
    group,
    attributes: { name, type, ...extra, disabled: false, node_type: "input" },
    messages: [],
    meta: label ? { label } : {},
  };
}

export interface FlowView {
  /** Values to echo back into the form (never the password). */
  values?: Record<string, string>;
  /** Flow-level messages. */
  messages?: UiText[];
  /** Messages attached to one node, by node name. */
  nodeMessages?: Record<string, UiText[]>;
  /** A settings flow's state: `show_form` until a change is saved, then `success`. */
  state?: "show_form" | "success";
}

function nodesOf(flow: Flow, values: Record<string, string>): InputNode[] {
  const csrf = flow.csrfToken
    ? [input("default", "csrf_token", "hidden", null, { value: flow.csrfToken, required: true })]
    : [];
  if (flow.type === "settings") {
    // The password method only (ADR 0026); Kratos's profile method, which edits traits, is not offered.
    return [
      ...csrf,
      input("password", "password", "password", { id: 1070001, text: "Password", type: "info" }, { required: true, autocomplete: "new-password" }),
      input("password", "method", "submit", { id: 1070003, text: "Save", type: "info" }, { value: "password" }),
    ];
  }
  if (flow.type === "login") {
    return [
      input("default", "identifier", "text", { id: 1070004, text: "ID", type: "info" }, { value: values.identifier ?? "", required: true, autocomplete: "username" }),
      ...csrf,
      input("password", "password", "password", { id: 1070001, text: "Password", type: "info" }, { required: true, autocomplete: "current-password" }),
      input("password", "method", "submit", { id: 1010022, text: "Sign in with password", type: "info" }, { value: "password" }),
    ];
  }
  return [
    ...csrf,
    input("default", "traits.email", "email", { id: 1070002, text: "E-Mail", type: "info" }, { value: values["traits.email"] ?? "", required: true, autocomplete: "email" }),
    input("default", "traits.username", "text", { id: 1070002, text: "Username", type: "info" }, { value: values["traits.username"] ?? "", autocomplete: "username" }),
    input("password", "password", "password", { id: 1070001, text: "Password", type: "info" }, { required: true, autocomplete: "new-password" }),
    input("password", "method", "submit", { id: 1040001, text: "Sign up", type: "info" }, { value: "password" }),
  ];
}

export function flowJson(flow: Flow, baseUrl: string, view: FlowView = {}): Static<typeof W.Flow> {
  const nodes = nodesOf(flow, view.values ?? {});
  for (const node of nodes) {
    const extra = view.nodeMessages?.[node.attributes.name as string];
    if (extra) node.messages.push(...extra);
  }
  const ui: Static<typeof W.Flow>["ui"] = {
    action: `${baseUrl}/self-service/${flow.type}?flow=${flow.id}`,
    method: "POST",
    nodes,
  };
  // Kratos omits `ui.messages` when empty.
  if (view.messages && view.messages.length > 0) ui.messages = view.messages;
  const json: Static<typeof W.Flow> & { organization_id: null } = {
    id: flow.id,
    organization_id: null,
    type: flow.kind,
    expires_at: flow.expiresAt.toISOString(),
    issued_at: flow.issuedAt.toISOString(),
    request_url: flow.requestUrl,
    ui,
    created_at: flow.issuedAt.toISOString(),
    updated_at: flow.issuedAt.toISOString(),
    state: flow.type === "settings" ? (view.state ?? "show_form") : "choose_method",
  };
  if (flow.returnTo) json.return_to = flow.returnTo;
  if (flow.type === "login") {
    json.refresh = flow.refresh;
    json.requested_aal = "aal1";
  }
  return json;
}

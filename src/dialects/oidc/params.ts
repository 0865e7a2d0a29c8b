/**
 * Reading OAuth parameters from a query string or a form. RFC 6749 §3.1 and §3.2: "Request and
 * response parameters MUST NOT be included more than once", and parameters sent without a value
 * are treated as omitted; parameters this door does not know are ignored (auth0-spa-js sends
 * `auth0Client`, Auth0 SDKs a bare `federated`).
 */
export class OAuthParams {
  readonly #values: Record<string, unknown>;

  constructor(values: unknown) {
    this.#values = values !== null && typeof values === "object" && !Array.isArray(values) ? (values as Record<string, unknown>) : {};
  }

  /** The known parameters that appear more than once (each is a refusal). */
  duplicated(names: readonly string[]): string[] {
    return names.filter((name) => Array.isArray(this.#values[name]));
  }

  /** A parameter's single value; undefined when absent, empty or duplicated (check `duplicated` first). */
  get(name: string): string | undefined {
    const value = Object.hasOwn(this.#values, name) ? this.#values[name] : undefined;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return typeof value === "string" && value !== "" ? value : undefined;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#values, name);
  }
}

/**
 * The store the core is handed by the server: the same store, telling `failed` the name of each
 * call that rejected (the `curfew_store_errors_total` metric). The names are the Store port's
 * methods, a closed set. The rejection itself goes on to the caller unchanged (INV-3).
 */
import type { Store } from "../core/ports.ts";

export function observedStore(store: Store, failed: (operation: keyof Store) => void): Store {
  const observed = {} as Record<string, unknown>;
  // Own methods first, then the class chain's: whichever the store defines a method as.
  for (let proto: object | null = store; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name === "constructor" || name in observed || typeof descriptor?.value !== "function") continue;
      const method = descriptor.value as (...args: unknown[]) => unknown;
      observed[name] = (...args: unknown[]) => {
        const result = method.apply(store, args);
        if (result instanceof Promise) result.catch(() => failed(name as keyof Store));
        return result;
      };
    }
  }
  return observed as unknown as Store;
}

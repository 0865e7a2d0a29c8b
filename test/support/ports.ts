/** Ports for tests that start listeners of their own (a spawned Curfew, a second origin). */
import { type AddressInfo, createServer } from "node:net";

/** A port nobody listens on right now: listen on port 0, note the port, close. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

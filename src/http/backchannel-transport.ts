/**
 * The HTTP side of back-channel logout (Back-Channel Logout 1.0 §2.5): a form POST of
 * `logout_token=<JWT>`, five seconds at most, no redirect followed, and an SSRF guard on the
 * address actually connected to (SEC-47): loopback, private, link-local (cloud metadata), and
 * unspecified or multicast addresses are refused unless the configuration allows the first two
 * kinds. The guard runs in the socket's DNS lookup, so a name cannot resolve to one address when
 * checked and another when connected.
 */
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { lookup as dnsLookup } from "node:dns";
import type { BackchannelTransport } from "../core/ports.ts";

export interface TransportPolicy {
  allowLoopback: boolean;
  allowPrivateNetworks: boolean;
  timeoutMs?: number;
}

function blockList(policy: TransportPolicy): BlockList {
  const list = new BlockList();
  list.addSubnet("0.0.0.0", 8, "ipv4");
  list.addSubnet("224.0.0.0", 4, "ipv4");
  list.addSubnet("240.0.0.0", 4, "ipv4");
  list.addSubnet("169.254.0.0", 16, "ipv4"); // link-local, with 169.254.169.254 metadata: always refused
  list.addSubnet("fe80::", 10, "ipv6");
  list.addSubnet("ff00::", 8, "ipv6");
  list.addAddress("::", "ipv6");
  list.addSubnet("fd00:ec2::", 32, "ipv6"); // AWS metadata over IPv6
  if (!policy.allowLoopback) {
    list.addSubnet("127.0.0.0", 8, "ipv4");
    list.addAddress("::1", "ipv6");
  }
  if (!policy.allowPrivateNetworks) {
    for (const [net, bits] of [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["100.64.0.0", 10]] as const) list.addSubnet(net, bits, "ipv4");
    list.addSubnet("fc00::", 7, "ipv6");
  }
  return list;
}

export function httpBackchannelTransport(policy: TransportPolicy): BackchannelTransport {
  const blocked = blockList(policy);
  const refused = (address: string) => {
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped ? blocked.check(mapped[1]!, "ipv4") : blocked.check(address, family);
  };
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as unknown as { address: string; family: number }[];
      const allowed = list.filter((a) => !refused(a.address));
      if (allowed.length === 0) return callback(Object.assign(new Error(`the address of ${hostname} is not allowed`), { code: "EADDRREFUSED" }), "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof allowed) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
  const timeoutMs = policy.timeoutMs ?? 5_000;
  return {
    post(uri: string, logoutToken: string) {
      return new Promise((resolve) => {
        let url: URL;
        try {
          url = new URL(uri);
        } catch {
          return resolve({ error: "not a URL" });
        }
        const host = url.hostname.replace(/^\[|\]$/g, "");
        if (isIP(host) !== 0 && refused(host)) return resolve({ error: `the address ${host} is not allowed` });
        const body = new URLSearchParams({ logout_token: logoutToken }).toString();
        const client = url.protocol === "https:" ? https : http;
        const request = client.request(
          url,
          {
            method: "POST",
            lookup,
            timeout: timeoutMs,
            headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body), "user-agent": "curfew-backchannel" },
          },
          (response) => {
            response.resume(); // the body is not read; a redirect is an answer like any other
            resolve({ status: response.statusCode ?? 0 });
          },
        );
        request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        request.on("error", (error) => resolve({ error: error.message.slice(0, 200) }));
        request.end(body);
      });
    },
  };
}

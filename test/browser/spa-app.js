// A single-page app's use of Curfew's Kratos API from another origin of the same site, the
// way Ory's browser SDK does it: every call with `credentials: "include"` and JSON asked for.
// Served by the browser tests' static site as /app.js; the tests call `window.spa.*`.
"use strict";

const asJson = { credentials: "include", headers: { Accept: "application/json" } };

async function whoami(curfew) {
  const res = await fetch(`${curfew}/sessions/whoami`, asJson);
  return { status: res.status, body: await res.json() };
}

/** createBrowserLoginFlow, then updateLoginFlow with the flow's csrf_token. */
async function signIn(curfew, identifier, password) {
  const flow = await (await fetch(`${curfew}/self-service/login/browser`, asJson)).json();
  const csrf = flow.ui.nodes.find((node) => node.attributes.name === "csrf_token").attributes.value;
  const res = await fetch(flow.ui.action, {
    method: "POST",
    credentials: "include",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify({ method: "password", identifier, password, csrf_token: csrf }),
  });
  return { status: res.status, body: await res.json() };
}

/** createBrowserLogoutFlow, then updateLogoutFlow as a JSON caller (204). */
async function logOut(curfew) {
  const flowRes = await fetch(`${curfew}/self-service/logout/browser`, asJson);
  const flow = await flowRes.json();
  if (flowRes.status !== 200) return { flowStatus: flowRes.status, flow };
  const res = await fetch(flow.logout_url, asJson);
  return { flowStatus: flowRes.status, flow, status: res.status, body: await res.text() };
}

/** What a page may read of whoami: a status, or the name of the error the browser threw. */
async function probe(curfew, init) {
  try {
    const res = await fetch(`${curfew}/sessions/whoami`, { ...init, headers: { Accept: "application/json" } });
    return `status ${res.status}`;
  } catch (error) {
    return `refused: ${error.name}`;
  }
}

window.spa = { whoami, signIn, logOut, probe };

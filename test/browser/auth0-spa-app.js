// A single-page app that signs in with auth0-spa-js, unmodified (its UMD build, the `auth0`
// global), with Curfew as its Auth0 "domain". Served by the browser tests' static site as
// /app.js, after /auth0-spa-js.js; the tests call `window.app.*`. Every call answers plain data
// (an Error does not survive page.evaluate), and the two that navigate away return before the
// navigation starts, so the test waits for the browser to arrive rather than for a promise the
// unloading page would never settle.
"use strict";

let client = null;

/** What an app does at start-up: one client, from its configuration. */
function start(options) {
  client = new auth0.Auth0Client(options);
  return true;
}

/** The library's errors, as data: `error` / `error_description` when the server said them. */
function failure(error) {
  return { failed: true, name: error?.name, error: error?.error, error_description: error?.error_description, message: String(error?.message ?? error) };
}

function loginWithRedirect() {
  client.loginWithRedirect().catch((error) => (window.appError = failure(error)));
  return "navigating";
}

function logout(options) {
  client.logout(options).catch((error) => (window.appError = failure(error)));
  return "navigating";
}

/** Back on the page with `?code&state`: the callback, then what the app then knows. */
async function handleRedirectCallback() {
  try {
    await client.handleRedirectCallback();
  } catch (error) {
    return failure(error);
  }
  return signedIn();
}

async function signedIn() {
  const claims = await client.getIdTokenClaims();
  return { isAuthenticated: await client.isAuthenticated(), user: (await client.getUser()) ?? null, claims: claims ?? null };
}

async function getTokenSilently(options) {
  try {
    return { token: await client.getTokenSilently(options) };
  } catch (error) {
    return failure(error);
  }
}

/** The access token used the way an app's page uses it: a bearer token, across origins (CORS). */
async function userinfo(curfew, accessToken) {
  try {
    const res = await fetch(`${curfew}/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
    return { status: res.status, body: await res.json() };
  } catch (error) {
    return failure(error);
  }
}

window.app = { start, loginWithRedirect, logout, handleRedirectCallback, signedIn, getTokenSilently, userinfo };

/**
 * How the built-in pages say things to a person (docs/adr/0027-pages-for-people.md): field
 * labels, messages, devices, doors and times. The API keeps Kratos's texts (`ID`, message 4000006
 * naming phone numbers), which clients and their tests match; the pages, which Curfew alone
 * renders, say what is true of Curfew and plain to a reader.
 */
import { UAParser } from "ua-parser-js";
import type { Door } from "../../../core/model.ts";
import { PASSWORD_MIN_LENGTH } from "../../../core/identities.ts";

/** A field's label on a page, by the node's name and whether the password is a new one. */
export function fieldLabel(name: string, autocomplete: string | undefined, fallback: string): string {
  switch (name) {
    case "identifier":
      return "Email or username";
    case "traits.email":
      return "Email";
    case "traits.username":
      return "Username (optional)";
    case "password":
      return autocomplete === "new-password" ? "New password" : "Password";
    default:
      return fallback;
  }
}

/** The rule a new password must meet, shown under its field and enforced by the browser too. */
export const NEW_PASSWORD_RULE = { minLength: PASSWORD_MIN_LENGTH, text: `At least ${PASSWORD_MIN_LENGTH} characters.` } as const;

/** A message by its Kratos id where the page says it better; the API's text otherwise. */
export function messageText(id: number, text: string): string {
  switch (id) {
    case 4000006: // Kratos names phone numbers, which Curfew has none of.
      return "The email, username or password is not right. Check for typing mistakes and try again.";
    default:
      return text;
  }
}

/** Each door, as a person knows it (the sessions list's "Signed in through"). */
export const DOOR_NAMES: Record<Door, string> = {
  kratos: "This website",
  oidc: "An app, through single sign-on",
  firstock: "Trading API (Firstock)",
  assets: "Assets (WoodWing)",
};

/** The door of a Kratos session as a person knows it: a browser's is this website, a program's the API. */
export function doorName(door: Door, userAgent: string | null): string {
  if (door === "kratos" && browserOf(userAgent) === null) return "App or script (API)";
  return DOOR_NAMES[door];
}

const OS_NAMES: Record<string, string> = { "Mac OS": "macOS", "Chromium OS": "ChromeOS", "Chrome OS": "ChromeOS" };

function browserOf(userAgent: string | null): { browser: string; os: string | null } | null {
  if (!userAgent) return null;
  const r = new UAParser(userAgent).getResult();
  if (!r.browser.name) return null;
  return { browser: r.browser.name, os: r.os.name ? (OS_NAMES[r.os.name] ?? r.os.name) : null };
}

/** A device by its user agent: "Chrome on macOS", "API client (curl 8.1)", or "Unknown device". */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const seen = browserOf(userAgent);
  if (seen) return seen.os ? `${seen.browser} on ${seen.os}` : seen.browser;
  // A program names itself first: `curl/8.1.2`, `python-requests/2.31.0`, `okhttp/4.9.0`.
  const product = /^([A-Za-z][\w.-]{0,39})\/(\d+(?:\.\d+)?)/.exec(userAgent);
  return product ? `API client (${product[1]} ${product[2]})` : `API client (${userAgent.slice(0, 40)})`;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** The first language of an Accept-Language header that Intl knows, else English. */
export function localeOf(acceptLanguage: string | undefined): string {
  for (const part of (acceptLanguage ?? "").split(",").slice(0, 8)) {
    const tag = part.split(";")[0]!.trim();
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(tag)) continue;
    try {
      return Intl.getCanonicalLocales(tag)[0]!;
    } catch {
      // not a language tag Intl takes: try the next
    }
  }
  return "en";
}

/** "5 minutes ago", "just now", in the viewer's language, and the exact instant (UTC) for a tooltip. */
export function relativeTime(at: Date, now: Date, locale: string): { relative: string; exact: string } {
  const ms = at.getTime() - now.getTime();
  const relativeFormat = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  let relative = relativeFormat.format(0, "minute");
  for (const [unit, size] of UNITS) {
    if (Math.abs(ms) >= size) {
      relative = relativeFormat.format(Math.round(ms / size), unit);
      break;
    }
  }
  const exact = new Intl.DateTimeFormat(locale, { year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" }).format(at);
  return { relative, exact };
}

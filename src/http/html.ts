/**
 * A tiny, escaping HTML builder for the built-in pages: every interpolated value is escaped
 * unless it is already `Html` (built here). No template engine, no build step (D16).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

export interface PageOptions {
  title: string;
  body: Html;
  /** More of the head (a `<meta http-equiv="refresh">`, a script its CSP names by hash). */
  head?: Html;
}

/** The page shell: one stylesheet, and no scripts unless the page's own CSP allows one by hash. */
export function page({ title, body, head }: PageOptions): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Curfew</title>
<link rel="stylesheet" href="/ui/style.css">
${head}
</head>
<body>
<header><a class="brand" href="/">Curfew</a></header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.value}`;
}

/**
 * The CSP of every page Curfew renders (SEC-71): nothing but our stylesheet, no scripts, no
 * framing; forms may post to us and, because Chrome applies form-action to the redirect that
 * follows a post, onwards to the redirect gate's allowed origins (and `moreTargets`).
 */
export function contentSecurityPolicy(
  baseUrl: string,
  redirect: { defaultUrl: URL; allowed: readonly { protocol: string; host: string }[] },
  moreTargets: readonly string[] = [],
): string {
  const targets = new Set([new URL(baseUrl).origin, redirect.defaultUrl.origin]);
  for (const entry of redirect.allowed) targets.add(`${entry.protocol}//${entry.host}`);
  for (const origin of moreTargets) targets.add(origin);
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${[...targets].join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

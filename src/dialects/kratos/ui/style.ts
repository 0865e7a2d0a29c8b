/** The one stylesheet of the built-in pages: readable, high-contrast, visible keyboard focus. */
export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fbfbfd; --muted: #5b5b66; --line: #d0d0da; --accent: #2443b5; --danger: #a4161a; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececf1; --bg: #16161a; --muted: #a5a5b3; --line: #3a3a44; --accent: #8ea2ff; --danger: #ff8a8a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 0.75rem 1.5rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--fg); text-decoration: none; letter-spacing: 0.02em; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1.25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 0.75rem; }
a { color: var(--accent); }
form.stack { display: grid; gap: 0.9rem; }
label { display: grid; gap: 0.3rem; font-weight: 600; }
input[type=text], input[type=email], input[type=password] { font: inherit; font-weight: 400; padding: 0.55rem 0.7rem; border: 1px solid var(--line); border-radius: 6px; background: transparent; color: inherit; }
button { font: inherit; padding: 0.5rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--bg); cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { border-color: var(--danger); background: transparent; color: var(--danger); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.messages { list-style: none; padding: 0; margin: 0 0 1rem; }
.messages li { padding: 0.5rem 0.75rem; border-left: 4px solid var(--accent); margin-bottom: 0.5rem; }
.messages li.error, .field-error { border-color: var(--danger); color: var(--danger); }
.field-error { font-weight: 400; font-size: 0.9rem; }
.hint { font-weight: 400; font-size: 0.9rem; color: var(--muted); }
.messages li.success { border-color: #2e7d32; }
time { white-space: nowrap; }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; padding-bottom: 0.5rem; }
th, td { text-align: left; padding: 0.5rem 0.4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td form { margin: 0; }
.muted { color: var(--muted); font-size: 0.9rem; }
.actions { display: flex; gap: 0.75rem; flex-wrap: wrap; margin-top: 1.25rem; }
`;

/**
 * The server-rendered pages of the authorization endpoint: login, consent and error. Plain HTML
 * with one static stylesheet; no script at all, no inline style, so the Content-Security-Policy
 * can forbid both. Every dynamic value is HTML-escaped.
 */
import type { FastifyReply } from 'fastify';

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

export const STYLESHEET_PATH = '/oauth/assets/gatehouse.css';

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${body}
<footer>Gatehouse</footer>
</main>
</body>
</html>
`;
}

/**
 * Security headers of every page: a strict CSP (no script, styles from us only, forms post to us
 * or to the redirect targets the flow may send the browser to, since browsers check redirects
 * after a form submission against `form-action`), no framing, no referrer, no caching.
 */
export function sendPage(
  reply: FastifyReply,
  status: number,
  html: string,
  formTargets: readonly string[] = [],
): FastifyReply {
  const targets = ["'self'", ...formTargets].join(' ');
  return reply
    .code(status)
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${targets}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function loginPage(input: {
  readonly clientName: string;
  readonly action: string;
  readonly csrf: string;
  readonly username?: string | undefined;
  readonly error?: string | undefined;
}): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(input.clientName)}</strong></p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrf)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(input.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">Sign in</button></div>
</form>`,
  );
}

export function consentPage(input: {
  readonly clientName: string;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly action: string;
  readonly csrf: string;
}): string {
  const scopes =
    input.scopes.length > 0
      ? `<ul class="scopes">${input.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('')}</ul>`
      : '<p>No specific permissions: only your identity.</p>';
  return layout(
    'Allow access?',
    `<h1>Allow access?</h1>
<p><strong>${escapeHtml(input.clientName)}</strong> asks to act as <strong>${escapeHtml(input.username)}</strong> with:</p>
${scopes}
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrf)}">
<div class="actions">
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>`,
  );
}

export function errorPage(input: { readonly title: string; readonly message: string; readonly code?: string }): string {
  return layout(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1>
<p class="error" role="alert">${escapeHtml(input.message)}</p>
${input.code ? `<p>Error: <code>${escapeHtml(input.code)}</code></p>` : ''}`,
  );
}

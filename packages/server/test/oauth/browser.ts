/**
 * A minimal browser for the authorization endpoint's pages: keeps cookies, follows redirects by
 * hand (so tests see every 303), reads the forms' action and CSRF token from the HTML, and
 * submits them as a person would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';

export class Browser {
  private readonly cookies = new Map<string, string>();
  /** `headers` go with every request (e.g. `X-Forwarded-For` behind a trusted proxy). */
  constructor(
    readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = (pair ?? '').split('=');
      const value = rest.join('=');
      if (!name) continue;
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  forget(): void {
    this.cookies.clear();
  }

  async request(url: string, init: RequestInit = {}): Promise<{ response: Response; body: string }> {
    const absolute = new URL(url, this.base).toString();
    const response = await fetch(absolute, {
      ...init,
      redirect: 'manual',
      headers: { ...this.headers, ...(init.headers as Record<string, string>), cookie: this.cookieHeader() },
    });
    this.remember(response);
    return { response, body: await response.text() };
  }

  /** Follows 303/302 redirects on this server; stops at the first one leaving it (the client's redirect URI). */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; body: string; url: string }> {
    let current = url;
    let result = await this.request(current, init);
    while (result.response.status === 303 || result.response.status === 302) {
      const location = result.response.headers.get('location') as string;
      const next = new URL(location, new URL(current, this.base));
      if (next.origin !== new URL(this.base).origin) return { ...result, url: next.toString() };
      current = next.toString();
      result = await this.request(current);
    }
    return { ...result, url: current };
  }

  /** Submits the page's form (the first, or the one whose action ends with `suffix`). */
  async submit(
    html: string,
    fields: Record<string, string>,
    suffix = '',
  ): Promise<{ response: Response; body: string; url: string }> {
    const forms = [...html.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)];
    const form = forms.find((match) => (match[1] ?? '').endsWith(suffix));
    expect(form, 'a form on the page').toBeDefined();
    const action = (form?.[1] ?? '').replaceAll('&#38;', '&');
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(form?.[2] ?? '')?.[1] ?? '';
    return this.follow(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: csrf, ...fields }).toString(),
    });
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

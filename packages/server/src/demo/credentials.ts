/**
 * The demo's credentials, one per mechanism: each is created through the admin API (as an
 * operator would) and answers the ready-to-paste commands that use it. A mechanism this build
 * does not have is listed as missing in the banner instead.
 */
import type { AdminClient } from '../cli/admin-client.js';
import { randomBase62 } from '../core/secrets/random.js';

export interface DemoContext {
  /** The listeners' URLs; `proxy` is the gateway. */
  readonly urls: { readonly public: string; readonly admin: string; readonly proxy: string };
  readonly adminKey: string;
  /** The admin API, with the admin key. */
  readonly admin: AdminClient;
  /** Whether the pipeline runs this mechanism. */
  hasMechanism(name: string): boolean;
}

export interface DemoCredential {
  /** Shown above its commands, and in the "missing" line. */
  readonly title: string;
  /**
   * Creates the credential and answers the commands that use it (shell lines); null when this
   * build lacks what it needs.
   */
  provision(context: DemoContext): Promise<string[] | null>;
}

/** The demo user, for Basic and for the JWT login. */
export const DEMO_USERNAME = 'demo';

/** Single-quoted for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** POSTs to a token endpoint of the public listener and answers its access token. */
async function accessTokenFrom(url: string, init: { headers: Record<string, string>; body: string }): Promise<string> {
  const response = await fetch(url, { method: 'POST', ...init });
  const text = await response.text();
  if (!response.ok) throw new Error(`demo setup: POST ${url} answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { access_token: string }).access_token;
}

/** One password for the demo user, made on first use and shared by Basic and the JWT login. */
function demoUser(): (context: DemoContext) => Promise<string> {
  let password: Promise<string> | undefined;
  return (context) => {
    password ??= (async () => {
      const secret = randomBase62(12);
      await context.admin.request('POST', '/admin/v1/users', { username: DEMO_USERNAME, password: secret });
      return secret;
    })();
    return password;
  };
}

export function demoCredentials(): readonly DemoCredential[] {
  const userPassword = demoUser();
  return [
    {
      title: 'API key (X-API-Key)',
      async provision(context) {
        if (!context.hasMechanism('apikey')) return null;
        const key = await context.admin.request<{ key: string }>('POST', '/admin/v1/api-keys', {
          name: 'demo',
          owner: 'demo-service',
        });
        return [`curl -H ${shellQuote(`X-API-Key: ${key.key}`)} ${context.urls.proxy}/data`];
      },
    },
    {
      title: `HTTP Basic (user "${DEMO_USERNAME}")`,
      async provision(context) {
        if (!context.hasMechanism('basic')) return null;
        const password = await userPassword(context);
        return [`curl -u ${shellQuote(`${DEMO_USERNAME}:${password}`)} ${context.urls.proxy}/data`];
      },
    },
    {
      title: 'JWT: log in, then send the access token as a Bearer token',
      async provision(context) {
        if (!context.hasMechanism('jwt')) return null;
        const password = await userPassword(context);
        const body = JSON.stringify({ username: DEMO_USERNAME, password });
        const token = await accessTokenFrom(`${context.urls.public}/auth/login`, {
          headers: { 'content-type': 'application/json' },
          body,
        });
        return [
          `curl -X POST -H 'content-type: application/json' -d ${shellQuote(body)} ${context.urls.public}/auth/login`,
          `curl -H ${shellQuote(`Authorization: Bearer ${token}`)} ${context.urls.proxy}/data`,
        ];
      },
    },
    {
      title: 'OAuth 2.0 client credentials: get a token at /oauth/token, then send it as a Bearer token',
      async provision(context) {
        if (!context.hasMechanism('jwt')) return null;
        let client: { client_id: string; client_secret: string };
        try {
          client = await context.admin.request('POST', '/admin/v1/clients', {
            client_name: 'demo-service',
            grant_types: ['client_credentials'],
            token_endpoint_auth_method: 'client_secret_post',
          });
        } catch {
          return null; // this build has no OAuth server
        }
        const form = `grant_type=client_credentials&client_id=${client.client_id}&client_secret=${client.client_secret}`;
        const token = await accessTokenFrom(`${context.urls.public}/oauth/token`, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
        return [
          `curl -X POST -d ${shellQuote(form)} ${context.urls.public}/oauth/token`,
          `curl -H ${shellQuote(`Authorization: Bearer ${token}`)} ${context.urls.proxy}/data`,
        ];
      },
    },
  ];
}

/**
 * The demo's credentials, one per mechanism: each is created through the admin API (as an
 * operator would) and answers the ready-to-paste commands that use it. A mechanism this build
 * does not have is listed as missing in the banner instead.
 */
import type { AdminClient } from '../cli/admin-client.js';

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

/** In the order the banner shows them. Mechanisms add their entry as they land. */
export const DEMO_CREDENTIALS: readonly DemoCredential[] = [
  { title: 'API key (X-API-Key)', provision: async () => null },
  { title: 'HTTP Basic (user "demo")', provision: async () => null },
  { title: 'JWT (log in, then Bearer)', provision: async () => null },
  { title: 'OAuth 2.0 client credentials (/oauth/token, then Bearer)', provision: async () => null },
];

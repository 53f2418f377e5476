/**
 * A real HTTP issuer on an ephemeral port, under the test's control: OIDC metadata, a JWKS that
 * can be switched to every failure mode a verifier must survive (garbage, HTML, a private key,
 * 10 MB, a hang, 5xx, a redirect), a token endpoint (client credentials, token exchange,
 * private_key_jwt), introspection and a Gatehouse-like `/auth/verify`. Every request is counted
 * and recorded, so tests can assert how often the verifier called out. Tokens are signed by jose.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export type JwksMode = 'ok' | 'garbage' | 'html' | 'private-key' | 'huge' | 'hang' | 'error' | 'redirect' | 'empty';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A handler's answer: JSON unless `body` is a string. */
export interface Answer {
  status: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export type Handler = (request: RecordedRequest) => Answer | Promise<Answer>;

export interface TestIssuer {
  readonly url: string;
  readonly audience: string;
  /** Keys published in the JWKS (mutable: rotate by pushing/removing). */
  readonly published: SigningKey[];
  jwksMode: JwksMode;
  /** `Cache-Control` of the JWKS answer. */
  jwksCacheControl: string | undefined;
  /** Whether `/.well-known/openid-configuration` exists (404 otherwise). */
  metadata: boolean;
  /** Request counts by path. */
  readonly counts: Map<string, number>;
  readonly requests: RecordedRequest[];
  /** Handlers by path (`/oauth/token`, `/oauth/introspect`, `/auth/verify`…). */
  readonly handlers: Map<string, Handler>;
  newKey(alg?: 'ES256' | 'EdDSA' | 'RS256'): Promise<SigningKey>;
  /** Signs an RFC 9068 access token with the first published key (or `key`), valid for 5 minutes from `now`. */
  sign(
    claims?: JWTPayload,
    options?: { key?: SigningKey; header?: Record<string, unknown>; now?: number },
  ): Promise<string>;
  count(path: string): number;
  close(): Promise<void>;
}

export async function startIssuer(options: { audience?: string } = {}): Promise<TestIssuer> {
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const handlers = new Map<string, Handler>();
  let serverUrl = '';

  async function newKey(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256'): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
    return { kid, alg, privateKey, publicJwk, privateJwk };
  }

  const state = {
    jwksMode: 'ok' as JwksMode,
    jwksCacheControl: 'max-age=600' as string | undefined,
    metadata: true,
  };
  const published: SigningKey[] = [await newKey('ES256')];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const recorded = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      counts.set(path, (counts.get(path) ?? 0) + 1);
      void route(recorded, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  };

  async function route(request: RecordedRequest, res: http.ServerResponse): Promise<void> {
    const handler = handlers.get(request.path);
    if (handler) {
      const answer = await handler(request);
      const body =
        answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const headers = Object.entries(answer.headers ?? {}).filter(([, value]) => value !== undefined);
      res.writeHead(answer.status, {
        ...(answer.body !== undefined && typeof answer.body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...(Object.fromEntries(headers) as Record<string, string | string[]>),
      });
      res.end(body);
      return;
    }
    if (request.path === '/.well-known/openid-configuration') {
      if (!state.metadata) return json(res, 404, { error: 'not_found' });
      return json(res, 200, {
        issuer: serverUrl,
        jwks_uri: `${serverUrl}/jwks`,
        token_endpoint: `${serverUrl}/oauth/token`,
        introspection_endpoint: `${serverUrl}/oauth/introspect`,
      });
    }
    if (request.path === '/jwks' || request.path === '/.well-known/jwks.json') return jwks(res);
    if (request.path === '/elsewhere') return json(res, 200, { keys: [] });
    json(res, 404, { error: 'not_found' });
  }

  function jwks(res: http.ServerResponse): void {
    const cacheControl: Record<string, string> = state.jwksCacheControl
      ? { 'cache-control': state.jwksCacheControl }
      : {};
    switch (state.jwksMode) {
      case 'ok':
        json(res, 200, { keys: published.map((key) => key.publicJwk) }, cacheControl);
        return;
      case 'empty':
        json(res, 200, { keys: [] });
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keys": [ this is not json');
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>');
        return;
      case 'private-key':
        json(res, 200, { keys: published.map((key) => key.privateJwk) });
        return;
      case 'error':
        json(res, 502, { error: 'bad gateway' });
        return;
      case 'redirect':
        res.writeHead(302, { location: `${serverUrl}/elsewhere` });
        res.end();
        return;
      case 'hang':
        // Headers never come: the verifier's deadline must end the wait.
        return;
      case 'huge': {
        // 10 MB of JSON, streamed without a Content-Length: the cap must cut it while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        res.write('{"keys":[');
        const pump = () => {
          while (sent < 10 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end(']}');
        };
        res.on('close', () => {
          sent = Number.POSITIVE_INFINITY;
        });
        pump();
        return;
      }
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = options.audience ?? 'https://api.example.test';

  const issuer: TestIssuer = {
    url: serverUrl,
    audience,
    published,
    get jwksMode() {
      return state.jwksMode;
    },
    set jwksMode(mode: JwksMode) {
      state.jwksMode = mode;
    },
    get jwksCacheControl() {
      return state.jwksCacheControl;
    },
    set jwksCacheControl(value: string | undefined) {
      state.jwksCacheControl = value;
    },
    get metadata() {
      return state.metadata;
    },
    set metadata(value: boolean) {
      state.metadata = value;
    },
    counts,
    requests,
    handlers,
    newKey,
    async sign(claims = {}, signOptions = {}) {
      const key = signOptions.key ?? (published[0] as SigningKey);
      const now = Math.floor((signOptions.now ?? Date.now()) / 1000);
      const payload: JWTPayload = {
        iss: serverUrl,
        sub: 'usr_alice',
        aud: audience,
        iat: now,
        exp: now + 300,
        jti: crypto.randomUUID(),
        client_id: 'cli_test',
        scope: 'read write',
        ...claims,
      };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...signOptions.header })
        .sign(key.privateKey);
    },
    count: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return issuer;
}

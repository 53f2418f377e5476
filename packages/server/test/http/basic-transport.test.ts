/**
 * Basic is HTTPS-only (issue 4; RFC 7617 §4: Basic sends the password in clear text). Black-box:
 * plain HTTP is refused with an explanation; the server's own TLS (tls.cert/tls.key, also via
 * the _FILE variables) is accepted; a trusted proxy's X-Forwarded-Proto is believed and an
 * untrusted one is not; a real nginx terminating TLS in front works; loopback can be allowed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadTlsCredentials } from '../../src/startup/tls.js';
import { BASIC_CHALLENGE, basicHeader, createUser, verify } from '../support/basic.js';
import { type StoreKind, storeKinds, tempDir } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { httpsGet, makeSelfSignedCertificate, type TestCertificate } from '../support/tls.js';

const ALICE = basicHeader('alice', 'alice-password');
// Every suite here uses the certificate that the real openssl makes below.
const openssl = peer('openssl');
const nginx = peer('nginx');

/**
 * Starts a server with `env` and the user alice for the enclosing describe; answers a getter.
 * Loopback is not allowed plain HTTP (the test harness allows it) unless `env` says so.
 */
function serverWithAlice(kind: StoreKind, env: () => Record<string, string>): () => TestServer {
  let server: TestServer;
  beforeAll(async () => {
    const given = env();
    const loopback: Record<string, string> =
      given.GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK === undefined
        ? { GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false' }
        : {};
    server = await startTestServer(kind, { env: { ...loopback, ...given } });
    await createUser(server, { username: 'alice', password: 'alice-password' });
  });
  afterAll(async () => server?.stop());
  return () => server;
}

let certDir: { path: string; remove(): void };
let certificate: TestCertificate;
beforeAll(() => {
  certDir = tempDir('gatehouse-tls-');
  certificate = makeSelfSignedCertificate(certDir.path);
});
afterAll(() => certDir?.remove());

describe.runIf(openssl.present).each(storeKinds())('Basic transport rules on %s', (kind) => {
  describe('without TLS, dev mode or trusted proxies', () => {
    const server = serverWithAlice(kind, () => ({}));

    it('refuses Basic over plain HTTP with 401 explaining that HTTPS is required, without checking it', async () => {
      const response = await verify(server().publicUrl, { authorization: ALICE });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
      expect(response.body.error).toBe('https_required');
      expect(response.body.error_description).toMatch(/only accepted over HTTPS/);
      expect(response.body.error_description).toMatch(/trust_proxy/);
      // The same answer for wrong credentials: nothing is learnt over plain HTTP.
      expect((await verify(server().publicUrl, { authorization: basicHeader('alice', 'nope') })).body.error).toBe(
        'https_required',
      );
      expect(server().logs.join('')).toContain('Basic authentication needs HTTPS');
    });

    it('ignores X-Forwarded-Proto from a client that is not a trusted proxy', async () => {
      const response = await verify(server().publicUrl, { authorization: ALICE, 'x-forwarded-proto': 'https' });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('https_required');
    });
  });

  describe('with the server’s own TLS', () => {
    const server = serverWithAlice(kind, () => ({
      GATEHOUSE_TLS_CERT: certificate.certFile,
      GATEHOUSE_TLS_KEY_FILE: certificate.keyFile,
    }));

    it('serves the public listener over HTTPS and accepts Basic there', async () => {
      expect(server().publicUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const response = await httpsGet(`${server().publicUrl}/auth/verify`, certificate.cert, { authorization: ALICE });
      expect(response.status).toBe(200);
      expect(response.headers['x-auth-method']).toBe('basic');
      const wrong = await httpsGet(`${server().publicUrl}/auth/verify`, certificate.cert, {
        authorization: basicHeader('alice', 'wrong-password'),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_credentials');
    });

    it('derives an https issuer and keeps the admin listener on plain HTTP', async () => {
      const status = await server().admin('GET', '/admin/v1/status');
      expect(status.body.issuer).toMatch(/^https:\/\//);
      expect(status.body.listeners.public).toMatch(/^https:/);
      expect(server().adminUrl).toMatch(/^http:/);
    });

    it('ignores X-Forwarded-Proto: http from an untrusted client: our own TLS is what counts', async () => {
      const response = await httpsGet(`${server().publicUrl}/auth/verify`, certificate.cert, {
        authorization: ALICE,
        'x-forwarded-proto': 'http',
      });
      expect(response.status).toBe(200); // the header comes from an untrusted client and is ignored
    });
  });

  describe('behind a trusted proxy', () => {
    const server = serverWithAlice(kind, () => ({ GATEHOUSE_TRUST_PROXY: '127.0.0.1/32,::1' }));

    it('believes X-Forwarded-Proto: https and X-Forwarded-For from the trusted proxy', async () => {
      const response = await verify(server().publicUrl, {
        authorization: ALICE,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '203.0.113.7',
      });
      expect(response.status).toBe(200);
      await server().running.services.audit.flush();
      const logins = await server().admin('GET', '/admin/v1/audit-events?action=user.login');
      expect(logins.body.data[0].ip).toBe('203.0.113.7');
    });

    it('refuses when the proxy says the client used http, or says nothing', async () => {
      for (const headers of [{ 'x-forwarded-proto': 'http' }, {}] as Array<Record<string, string>>) {
        const response = await verify(server().publicUrl, { authorization: ALICE, ...headers });
        expect(response.status).toBe(401);
        expect(response.body.error).toBe('https_required');
      }
    });
  });

  describe('with a proxy that is not in trust_proxy', () => {
    const server = serverWithAlice(kind, () => ({ GATEHOUSE_TRUST_PROXY: '10.0.0.0/8' }));

    it('does not believe its X-Forwarded-Proto', async () => {
      const response = await verify(server().publicUrl, { authorization: ALICE, 'x-forwarded-proto': 'https' });
      expect(response.body.error).toBe('https_required');
    });
  });

  describe('with basic.allow_insecure_loopback', () => {
    const server = serverWithAlice(kind, () => ({ GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true' }));

    it('accepts Basic over plain HTTP from a loopback client', async () => {
      expect((await verify(server().publicUrl, { authorization: ALICE })).status).toBe(200);
    });
  });
});

/** A free TCP port on loopback (nginx cannot be told to pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe.runIf(openssl.present && nginx.present)('behind a real nginx terminating TLS', () => {
  let server: TestServer;
  let nginx: ReturnType<typeof spawn> | undefined;
  let nginxUrl: string;
  let dir: { path: string; remove(): void };

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_TRUST_PROXY: 'loopback', GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false' },
    });
    await createUser(server, { username: 'alice', password: 'alice-password' });
    dir = tempDir('gatehouse-nginx-');
    const port = await freePort();
    nginxUrl = `https://127.0.0.1:${port}`;
    const config = path.join(dir.path, 'nginx.conf');
    writeFileSync(
      config,
      `
daemon off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir.path}/body;
  proxy_temp_path ${dir.path}/proxy;
  fastcgi_temp_path ${dir.path}/fastcgi;
  uwsgi_temp_path ${dir.path}/uwsgi;
  scgi_temp_path ${dir.path}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certificate.certFile};
    ssl_certificate_key ${certificate.keyFile};
    location / {
      proxy_pass ${server.publicUrl};
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
    );
    execFileSync('nginx', ['-t', '-p', dir.path, '-c', config], { stdio: 'ignore' });
    nginx = spawn('nginx', ['-p', dir.path, '-c', config], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await httpsGet(`${nginxUrl}/healthz`, certificate.cert);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50)); // waiting for a child process to bind
      }
    }
    throw new Error('nginx did not start');
  });
  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await server?.stop();
    dir?.remove();
  });

  it('accepts Basic that reached nginx over HTTPS, and still refuses it over plain HTTP directly', async () => {
    const response = await httpsGet(`${nginxUrl}/auth/verify`, certificate.cert, { authorization: ALICE });
    expect(response.status).toBe(200);
    expect(response.headers['x-auth-method']).toBe('basic');
    expect((await verify(server.publicUrl, { authorization: ALICE })).body.error).toBe('https_required');
  });
});

describe.runIf(openssl.present)('TLS configuration', () => {
  const env = (extra: Record<string, string>) => ({ GATEHOUSE_DATA_DIR: certDir.path, ...extra });

  it('requires tls.cert and tls.key together', () => {
    expect(() => loadConfig({ env: env({ GATEHOUSE_TLS_CERT: certificate.certFile }) })).toThrow(
      /tls.cert and tls.key must be set together/,
    );
  });

  it('accepts files, inline PEM, and the _FILE variables', () => {
    for (const extra of [
      { GATEHOUSE_TLS_CERT: certificate.certFile, GATEHOUSE_TLS_KEY: certificate.keyFile },
      { GATEHOUSE_TLS_CERT: certificate.cert, GATEHOUSE_TLS_KEY: certificate.key },
      { GATEHOUSE_TLS_CERT_FILE: certificate.certFile, GATEHOUSE_TLS_KEY_FILE: certificate.keyFile },
    ] as Array<Record<string, string>>) {
      const credentials = loadTlsCredentials(loadConfig({ env: env(extra) }).config);
      expect(credentials?.cert.toString()).toContain('BEGIN CERTIFICATE');
    }
  });

  it('stops with one clear line for a missing file or a key that does not match', () => {
    const missing = loadConfig({
      env: env({ GATEHOUSE_TLS_CERT: '/nonexistent.crt', GATEHOUSE_TLS_KEY: certificate.keyFile }),
    });
    expect(() => loadTlsCredentials(missing.config)).toThrow(ConfigError);
    expect(() => loadTlsCredentials(missing.config)).toThrow(/tls.cert: cannot read \/nonexistent.crt \(ENOENT\)/);
    const other = makeSelfSignedCertificate(certDir.path, 'other');
    const mismatch = loadConfig({
      env: env({ GATEHOUSE_TLS_CERT: certificate.certFile, GATEHOUSE_TLS_KEY: other.keyFile }),
    });
    expect(() => loadTlsCredentials(mismatch.config)).toThrow(/cannot be used together/);
    expect(() => loadTlsCredentials(mismatch.config)).not.toThrow(/PRIVATE KEY/);
  });

  it('validates trust_proxy entries', () => {
    expect(
      loadConfig({ env: env({ GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, 192.168.1.5 ,::1,loopback' }) }).config.trustProxy,
    ).toEqual(['10.0.0.0/8', '192.168.1.5', '::1', 'loopback']);
    expect(() => loadConfig({ env: env({ GATEHOUSE_TRUST_PROXY: 'example.com,10.0.0.0/33' }) })).toThrow(
      /neither an IP address.*example.com, 10.0.0.0\/33/,
    );
  });
});

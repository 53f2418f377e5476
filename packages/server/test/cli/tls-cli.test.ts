/**
 * The CLI against HTTPS with a self-signed certificate (docs/existing-service.md "HTTPS
 * locally"): without trusting it, a precise TLS message (not "is `gatehouse serve` running?")
 * and exit 3; with `--cacert FILE` or `NODE_EXTRA_CA_CERTS`, the command works; a host name the
 * certificate does not list, or plain HTTP to an HTTPS port, is named as such. The admin API
 * listens in plain HTTP on loopback, so here it is reached through a TLS-terminating proxy, as it
 * would be from another machine; `token login` speaks to the public listener's own TLS.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../support/tls.js';

/** TLS in front of a plain TCP port, on one loopback address. */
async function tlsProxy(
  certificate: TestCertificate,
  targetPort: number,
  host: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer({ cert: certificate.cert, key: certificate.key }, (socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the CLI over HTTPS with a self-signed certificate', () => {
  const certDir = tempDir('gatehouse-tls-cli-');
  let certificate: TestCertificate;
  let server: TestServer;
  let proxy: { port: number; close(): Promise<void> };
  let otherHost: { port: number; close(): Promise<void> };
  const status = (url: string, extra: string[] = [], env: Record<string, string> = {}) =>
    runCli(['status', '--admin-url', url, '--admin-key', server.adminKey, ...extra], { env });

  beforeAll(async () => {
    certificate = makeSelfSignedCertificate(certDir.path);
    server = await startTestServer('sqlite', {
      env: { GATEHOUSE_TLS_CERT: certificate.certFile, GATEHOUSE_TLS_KEY: certificate.keyFile },
    });
    const adminPort = Number(new URL(server.adminUrl).port);
    proxy = await tlsProxy(certificate, adminPort, '127.0.0.1');
    // The certificate lists localhost and 127.0.0.1, not 127.0.0.2.
    otherHost = await tlsProxy(certificate, adminPort, '127.0.0.2');
  });
  afterAll(async () => {
    await proxy?.close();
    await otherHost?.close();
    await server?.stop();
    certDir.remove();
  });

  it('says the certificate is not trusted and how to trust it, with exit 3', async () => {
    const url = `https://127.0.0.1:${proxy.port}`;
    const result = await status(url);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `TLS: the certificate of ${url} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); pass the CA (for a self-signed certificate, the certificate itself) with --cacert FILE, or set NODE_EXTRA_CA_CERTS=FILE`,
    );
    expect(result.stderr).not.toMatch(/is `gatehouse serve` running/);
  });

  it('works with --cacert, by IP address and by localhost, and with NODE_EXTRA_CA_CERTS', async () => {
    for (const url of [`https://127.0.0.1:${proxy.port}`, `https://localhost:${proxy.port}`]) {
      const result = await status(url, ['--cacert', certificate.certFile, '--json']);
      expect(result.stderr, url).toBe('');
      expect(result.code, url).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ store: { kind: 'sqlite' } });
    }
    const viaEnv = await status(`https://127.0.0.1:${proxy.port}`, ['--json'], {
      NODE_EXTRA_CA_CERTS: certificate.certFile,
    });
    expect(viaEnv.code).toBe(0);
    // Every admin command takes --cacert: one more of them.
    const list = await runCli([
      'apikey',
      'list',
      '--admin-url',
      `https://127.0.0.1:${proxy.port}`,
      '--admin-key',
      server.adminKey,
      '--cacert',
      certificate.certFile,
    ]);
    expect(list.code).toBe(0);
  });

  it('names a host the certificate does not list, plain HTTP to HTTPS, and an unreadable --cacert', async () => {
    const mismatch = await status(`https://127.0.0.2:${otherHost.port}`, ['--cacert', certificate.certFile]);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(
      /TLS: the certificate of https:\/\/127\.0\.0\.2:\d+ is not issued for this host \(/,
    );
    expect(mismatch.stderr).toMatch(/IP: 127\.0\.0\.2 is not in the cert's list/);

    const plain = await status(`http://127.0.0.1:${proxy.port}`);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/closed the connection without answering; if it serves HTTPS, use an https:\/\/ URL/);

    const wrongWay = await status(server.adminUrl.replace('http:', 'https:'));
    expect(wrongWay.code).toBe(3);
    expect(wrongWay.stderr).toMatch(/does not speak HTTPS \(ERR_SSL_/);

    const missing = await status(`https://127.0.0.1:${proxy.port}`, ['--cacert', `${certDir.path}/nope.pem`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--cacert: cannot read .*nope\.pem \(ENOENT\)/);
  });

  it('token login against the public listener says the same, and trusts NODE_EXTRA_CA_CERTS', async () => {
    const login = (env: Record<string, string> = {}) =>
      runCli(['token', 'login', '--username', 'nobody', '--url', server.publicUrl], { input: 'password\n', env });
    const untrusted = await login();
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/TLS: the certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted/);
    const trusted = await login({ NODE_EXTRA_CA_CERTS: certificate.certFile });
    // Reached: the server answers (no such user), no TLS error.
    expect(trusted.stderr).not.toMatch(/TLS:/);
    expect(trusted.stderr).toMatch(/login failed: 401/);
  });
});

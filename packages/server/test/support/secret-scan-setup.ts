/**
 * Installed in every test worker (vitest `setupFiles`): wraps `fetch` so that every credential a
 * test sends or receives is recorded for the secret scan (./secret-scan.ts). The wrapper only
 * reads: the request and the response the test gets are untouched (JSON answers are read from a
 * clone), and a failure to record never fails a request.
 */
import { recordFormSecrets, recordHeaderSecrets, recordJsonSecrets, recordSecret, runDir } from './secret-scan.js';

const original = globalThis.fetch;
const MAX_RECORDED_BODY = 256 * 1024;

function recordRequest(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): void {
  const url = input instanceof Request ? input.url : String(input);
  const query = url.indexOf('?');
  if (query !== -1) recordFormSecrets(url.slice(query + 1).split('#')[0] ?? '');
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  new Headers(init?.headers).forEach((value, name) => {
    headers.set(name, value);
  });
  headers.forEach((value, name) => {
    recordHeaderSecrets(name, value);
  });
  const body = init?.body;
  if (body instanceof URLSearchParams) recordFormSecrets(body.toString());
  else if (typeof body === 'string' && body.length <= MAX_RECORDED_BODY) {
    if ((headers.get('content-type') ?? '').includes('json')) {
      try {
        recordJsonSecrets(JSON.parse(body));
      } catch {
        // Not JSON after all (a test of malformed bodies).
      }
    } else recordFormSecrets(body);
  }
}

function recordResponse(response: Response): void {
  const location = response.headers.get('location');
  if (location) {
    const at = location.search(/[?#]/);
    if (at !== -1) for (const part of location.slice(at + 1).split('#')) recordFormSecrets(part);
  }
  for (const cookie of response.headers.getSetCookie()) {
    const value = cookie.split(';')[0]?.split('=').slice(1).join('=');
    if (value) recordSecret('session_cookie', value);
  }
  if (!(response.headers.get('content-type') ?? '').includes('json') || response.bodyUsed) return;
  response
    .clone()
    .text()
    .then((text) => {
      if (text.length <= MAX_RECORDED_BODY) recordJsonSecrets(JSON.parse(text));
    })
    .catch(() => {});
}

if (runDir() && !(original as { secretScan?: boolean }).secretScan) {
  const recording = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    try {
      recordRequest(input, init);
    } catch {
      // Recording is best effort; the request is the test's.
    }
    const response = await original(input, init);
    try {
      recordResponse(response);
    } catch {
      // As above.
    }
    return response;
  };
  globalThis.fetch = Object.assign(recording, { secretScan: true }) as typeof fetch;
}

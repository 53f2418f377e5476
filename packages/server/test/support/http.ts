/**
 * Raw HTTP for cases `fetch` cannot express: repeated headers (fetch joins them), exact bytes.
 */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  json(): any;
}

/** Sends a request whose headers may repeat: `[['authorization', 'a'], ['authorization', 'b']]`. */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Array<[string, string]>;
    body?: string | Buffer;
    /** The client's own address (any of 127.0.0.0/8 on loopback): tests of per-IP rules. */
    localAddress?: string;
  } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        // A flat array keeps repeated headers; Host must then be given explicitly.
        headers: [['Host', target.host], ...(options.headers ?? [])].flat(),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * The authorization endpoint's cookies: the login session, and a browser-binding value that ties
 * a pending login/consent interaction to the browser that started it (so that a login form cannot
 * be completed from another browser: login CSRF). Both `HttpOnly; SameSite=Lax; Path=/`, and
 * `Secure` with the `__Host-` prefix unless the operator serves plain-HTTP loopback or dev mode
 * (`oauth.secure_cookies`), where browsers would drop a Secure cookie.
 */
import { parse, serialize } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CookieJar {
  read(request: FastifyRequest, name: 'session' | 'browser'): string | undefined;
  set(reply: FastifyReply, name: 'session' | 'browser', value: string, maxAgeSeconds: number): void;
  clear(reply: FastifyReply, name: 'session' | 'browser'): void;
}

export function createCookieJar(secure: boolean): CookieJar {
  const names = {
    session: secure ? '__Host-gatehouse_session' : 'gatehouse_session',
    browser: secure ? '__Host-gatehouse_browser' : 'gatehouse_browser',
  };
  const attributes = { httpOnly: true, secure, sameSite: 'lax' as const, path: '/' };
  const append = (reply: FastifyReply, value: string) => {
    const existing = reply.getHeader('set-cookie');
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
    reply.header('set-cookie', [...list, value]);
  };
  return {
    read(request, name) {
      const header = request.headers.cookie;
      if (!header) return undefined;
      const value = parse(header)[names[name]];
      return value && /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    },
    set(reply, name, value, maxAgeSeconds) {
      append(reply, serialize(names[name], value, { ...attributes, maxAge: maxAgeSeconds }));
    },
    clear(reply, name) {
      append(reply, serialize(names[name], '', { ...attributes, maxAge: 0 }));
    },
  };
}

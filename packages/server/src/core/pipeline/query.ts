/**
 * One query parameter of a request target, read the same way wherever a request carries a
 * credential or a requirement in its URL (`?api_key=`, `/auth/verify?scope=`): WHATWG form
 * decoding (`+` is a space); undefined when absent; null when repeated, which callers refuse
 * (which of the two would count?). The query is only parsed when the name appears in it.
 *
 * @example
 * singleQueryParameter('/auth/verify?scope=a+b', 'scope'); // 'a b'
 * singleQueryParameter('/x?scope=a&scope=b', 'scope');     // null
 */
export function singleQueryParameter(url: string, name: string): string | undefined | null {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes(`${name}=`, start)) return undefined;
  const values = new URLSearchParams(url.slice(start + 1)).getAll(name);
  return values.length > 1 ? null : values[0];
}

// What a browser does with the Set-Cookie headers of a response, for tests
// that play several requests without a browser: cookies replaced by name,
// deleted by Max-Age=0, and sent back as one Cookie header. Host-only
// cookies of one site; attributes other than Max-Age are not checked.

/**
 * The `Cookie` header a browser holding `cookieHeader` sends after a
 * response with `setCookies`; `null` when no cookie is left.
 */
export function nextCookieHeader(
  cookieHeader: string | null,
  setCookies: readonly string[],
): string | null {
  const jar = new Map<string, string>();
  for (const pair of cookieHeader?.split(";") ?? []) {
    const equals = pair.indexOf("=");
    if (equals > 0) jar.set(pair.slice(0, equals).trim(), pair.trim());
  }
  for (const setCookie of setCookies) {
    const end = setCookie.indexOf(";");
    const pair = end === -1 ? setCookie : setCookie.slice(0, end);
    const name = pair.slice(0, pair.indexOf("="));
    jar.delete(name);
    if (!/;\s*Max-Age=(0|-\d+)\s*(;|$)/i.test(setCookie)) jar.set(name, pair);
  }
  return jar.size === 0 ? null : [...jar.values()].join("; ");
}

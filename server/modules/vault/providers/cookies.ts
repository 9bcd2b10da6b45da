/** A Cookie request header (`a=1; b=2`, optionally with its `Cookie:` name) → name → value. */
export function parseCookieHeader(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.replace(/^\s*cookie\s*:/i, '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

/** Applies Set-Cookie headers as a browser would: new values win, an expired cookie is dropped. */
export function applySetCookies(cookies: Record<string, string>, setCookies: string[]): Record<string, string> {
  const next = { ...cookies };
  for (const line of setCookies) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    if (eq <= 0) continue;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const gone = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a)) || value === '';
    if (gone) delete next[name];
    else next[name] = value;
  }
  return next;
}

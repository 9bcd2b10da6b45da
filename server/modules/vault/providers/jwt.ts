/** The `exp` of a JWT (seconds since the epoch), read without verifying: we only schedule by it. */
export function jwtExpiry(token: string | undefined): Date | null {
  const payload = token?.split('.')[1];
  if (!payload) return null;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

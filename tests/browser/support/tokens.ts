import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** The HS256 secret of one test file's gateway (TABMESH_JWT_SECRET); random, so no token outlives it. */
export const newJwtSecret = (): string => randomBytes(32).toString('base64url');

export type TokenClaims = {
  /** Org ids the bearer may use; `['*']` for all (the default). */
  orgs?: string[];
  sub?: string;
  /** Seconds from now until `exp`. Default one hour. */
  ttlSec?: number;
};

/** A token as `pnpm token` mints it: HS256, `sub`, `orgs`, `iat` and `exp`. */
export async function mintToken(secret: string, claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ orgs: claims.orgs ?? ['*'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub ?? 'browser-test')
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSec ?? 3600))
    .sign(new TextEncoder().encode(secret));
}

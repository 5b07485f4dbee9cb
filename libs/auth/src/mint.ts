import { parse } from '@tabmesh/contracts';
import { SignJWT } from 'jose';
import { type Claims, ClaimsSchema } from './claims.js';

export type MintOptions = {
  /** The HS256 secret the gateway verifies with. */
  secret: string;
  sub: string;
  orgs: Claims['orgs'];
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
};

/** Signs an HS256 token, for `pnpm token`, the development launcher and tests. */
export async function mintToken({ secret, sub, orgs, ttlSeconds, issuer, audience }: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // Validate what we sign, so a minted token always passes the gateway's own claims check.
  const claims = parse(ClaimsSchema, { sub, orgs, exp: now + Math.max(1, Math.round(ttlSeconds)) }, 'token claims');
  let jwt = new SignJWT({ orgs: claims.orgs })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp);
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Reads a lifetime such as `90`, `90s`, `15m`, `1h` or `7d` into seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`ttl: expected a number with an optional unit s, m, h or d, got "${text}"`);
  const unit = units[match[2] || 's'];
  // The pattern admits only these units; a miss here is a bug in this table, not in the input.
  if (unit === undefined) throw new Error(`ttl: unknown unit in "${text}"`);
  const seconds = Number(match[1]) * unit;
  if (seconds < 1) throw new Error('ttl: must be at least 1 second');
  return seconds;
}

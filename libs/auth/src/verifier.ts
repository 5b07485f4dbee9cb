import { UnavailableError } from '@tabmesh/contracts';
import { createRemoteJWKSet, errors, type JWSHeaderParameters, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type Claims, ClaimsSchema } from './claims.js';
import { RefusalReason, UnauthenticatedError } from './errors.js';

/** The one symmetric algorithm accepted; anything else signed with the secret (or `none`) is refused. */
export const SecretAlgorithms = ['HS256'] as const;

/** What identity providers sign with. Asymmetric only, so a public key can never act as an HMAC secret. */
export const JwksAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export type VerifierSettings = {
  /** HS256 shared secret (`TABMESH_JWT_SECRET`), at least 32 characters. */
  secret?: string | undefined;
  /** Key set of an identity provider (`TABMESH_JWKS_URL`). */
  jwksUrl?: string | undefined;
  /** Checked against `iss` when set. */
  issuer?: string | undefined;
  /** Checked against `aud` when set. */
  audience?: string | undefined;
  /** Seconds of clock skew tolerated on `exp`/`nbf`. */
  clockToleranceSec?: number;
};

/** Verifies tokens against one configured key source; build it once, at start. */
export type TokenVerifier = {
  /** `secret`, `jwks`, or both, for logs. */
  readonly keys: string;
  verify(token: string): Promise<Claims>;
};

/** Raised inside the key lookup when the key set itself cannot be fetched: not the caller's fault. */
class KeySourceDown extends Error {}

/** Tokens remembered as verified, and for how long at most (a key withdrawn from a JWKS stops working within it). */
const CacheEntries = 10_000;
const CacheSeconds = 60;

/**
 * Tokens verified recently, so the same token on the next request (a workbench sends one per call)
 * costs a map lookup instead of an HMAC or signature check. Keyed by the whole token, so only the
 * exact bytes verified before hit; an entry is used only while the token's `exp` still holds, and
 * for at most CacheSeconds. Failures are never kept.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { claims: Claims; until: number }>();

  constructor(private readonly toleranceSec: number) {}

  get(token: string): Claims | null {
    const e = this.entries.get(token);
    if (!e) return null;
    const now = Date.now() / 1000;
    if (now < e.until && e.claims.exp > now - this.toleranceSec) return e.claims;
    this.entries.delete(token);
    return null;
  }

  set(token: string, claims: Claims): void {
    if (this.entries.size >= CacheEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { claims, until: Date.now() / 1000 + CacheSeconds });
  }
}

/** Builds a verifier from the settings; throws when neither a secret nor a key set URL is given. */
export function createVerifier(settings: VerifierSettings): TokenVerifier {
  const secret = settings.secret ? new TextEncoder().encode(settings.secret) : null;
  const jwks = settings.jwksUrl ? createRemoteJWKSet(new URL(settings.jwksUrl)) : null;
  if (!secret && !jwks) throw new Error('a token verifier needs a secret or a JWKS URL');
  const algorithms = [...(secret ? SecretAlgorithms : []), ...(jwks ? JwksAlgorithms : [])];

  // `algorithms` is checked before the key is looked up, so `alg: none` and unlisted algorithms never get here.
  const getKey: JWTVerifyGetKey = async (header: JWSHeaderParameters, token) => {
    if (header.alg === 'HS256') {
      if (secret) return secret;
      throw new errors.JOSEAlgNotAllowed('HS256 tokens are not accepted: no secret is configured');
    }
    if (!jwks) throw new errors.JOSEAlgNotAllowed(`${header.alg} tokens are not accepted: no JWKS is configured`);
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      throw new KeySourceDown('the JWKS could not be fetched', { cause: err });
    }
  };

  const verified = new VerifiedTokens(settings.clockToleranceSec ?? 0);

  return {
    keys: [secret ? 'secret' : null, jwks ? 'jwks' : null].filter(Boolean).join('+'),
    async verify(token: string): Promise<Claims> {
      const known = verified.get(token);
      if (known) return known;
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: settings.clockToleranceSec ?? 0,
          ...(settings.issuer ? { issuer: settings.issuer } : {}),
          ...(settings.audience ? { audience: settings.audience } : {}),
        }));
      } catch (err) {
        if (err instanceof KeySourceDown)
          throw new UnavailableError('the identity provider keys are unavailable; retry shortly', err.cause);
        if (err instanceof errors.JWTExpired) throw new UnauthenticatedError(RefusalReason.Expired, err);
        throw new UnauthenticatedError(RefusalReason.Invalid, err);
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success)
        throw new UnauthenticatedError(RefusalReason.Invalid, {
          code: 'ERR_TABMESH_CLAIMS',
          issues: claims.error.issues,
        });
      verified.set(token, claims.data);
      return claims.data;
    },
  };
}

/** Verifies one bearer token: the claims, or UnauthenticatedError with a reason safe to show. */
export async function verifyToken(token: string | null | undefined, verifier: TokenVerifier): Promise<Claims> {
  if (!token) throw new UnauthenticatedError(RefusalReason.Missing);
  return verifier.verify(token);
}

/** The token of an `Authorization: Bearer <token>` header; null when there is none. */
export function bearerToken(authorization: string | null | undefined): string | null {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

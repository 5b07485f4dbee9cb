import { type Claims, createVerifier, type TokenVerifier, verifyToken } from '@tabmesh/auth';
import { type Config, ConfigError, type Logger } from '@tabmesh/runtime';

/** Who is calling: verified claims, or the anonymous caller of a gateway run with `TABMESH_AUTH=off`. */
export type Principal = Omit<Claims, 'exp'> & {
  /** Seconds since the epoch; null only when auth is off. */
  exp: number | null;
};

/** The caller every request is taken to be when auth is off. */
export const AnonymousPrincipal: Principal = Object.freeze({ sub: 'anonymous', orgs: ['*'], exp: null }) as Principal;

/** Turns a bearer token (or its absence) into a principal, for the HTTP routes and the WebSocket upgrade alike. */
export type Authenticator = {
  /** False when `TABMESH_AUTH=off`: every request is let through as AnonymousPrincipal. */
  readonly enabled: boolean;
  authenticate(token: string | null): Promise<Principal>;
};

type AccessConfig = Pick<
  Config,
  'TABMESH_AUTH' | 'TABMESH_JWT_SECRET' | 'TABMESH_JWKS_URL' | 'TABMESH_JWT_ISSUER' | 'TABMESH_JWT_AUDIENCE'
>;

/**
 * The gateway's authenticator from its configuration. A gateway that could verify no token refuses
 * to start: running open must be asked for explicitly with `TABMESH_AUTH=off`.
 */
export function createAuthenticator(config: AccessConfig, logger: Logger): Authenticator {
  if (config.TABMESH_AUTH === 'off') {
    logger.warn('TABMESH_AUTH=off: the gateway answers every request without a token, for every org');
    return { enabled: false, authenticate: async () => AnonymousPrincipal };
  }
  if (!config.TABMESH_JWT_SECRET && !config.TABMESH_JWKS_URL) {
    throw new ConfigError(
      ['TABMESH_JWT_SECRET', 'TABMESH_JWKS_URL', 'TABMESH_AUTH'],
      'invalid configuration: TABMESH_JWT_SECRET or TABMESH_JWKS_URL must be set for the gateway to verify tokens (TABMESH_AUTH=off runs it without, for local experiments only)',
    );
  }
  const verifier: TokenVerifier = createVerifier({
    secret: config.TABMESH_JWT_SECRET,
    jwksUrl: config.TABMESH_JWKS_URL,
    issuer: config.TABMESH_JWT_ISSUER,
    audience: config.TABMESH_JWT_AUDIENCE,
  });
  logger.info(
    { keys: verifier.keys, issuer: config.TABMESH_JWT_ISSUER, audience: config.TABMESH_JWT_AUDIENCE },
    'bearer tokens required',
  );
  return { enabled: true, authenticate: (token) => verifyToken(token, verifier) };
}

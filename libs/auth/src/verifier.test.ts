import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@tabmesh/contracts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayUseOrg } from './claims.js';
import { UnauthenticatedError } from './errors.js';
import { mintToken, parseTtl } from './mint.js';
import { bearerToken, createVerifier, verifyToken } from './verifier.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function refusal(p: Promise<unknown>): Promise<UnauthenticatedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthenticatedError);
  const e = err as UnauthenticatedError;
  expect(e.code).toBe(ErrorCode.Unauthenticated);
  expect(e.httpStatus).toBe(401);
  return e;
}

describe('HS256 verifier', () => {
  const verifier = createVerifier({ secret });

  it('accepts a minted token and returns its claims', async () => {
    const token = await mintToken({ secret, sub: 'ana', orgs: ['acme'], ttlSeconds: 60 });
    const claims = await verifyToken(token, verifier);
    expect(claims.sub).toBe('ana');
    expect(claims.orgs).toEqual(['acme']);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('answers a token verified before from memory only while its exp holds', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ sub: 'ana', orgs: ['acme'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret));
    expect((await verifyToken(token, verifier)).sub).toBe('ana');
    expect((await verifyToken(token, verifier)).sub).toBe('ana');
    await new Promise((r) => setTimeout(r, (exp + 0.2) * 1000 - Date.now()));
    expect((await refusal(verifyToken(token, verifier))).message).toBe('token expired');
    // Only the exact token verified is remembered: a changed signature is checked, and refused.
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await refusal(verifyToken(tampered, verifier))).message).toBe('invalid token');
  });

  it('refuses a missing token as "missing bearer token"', async () => {
    expect((await refusal(verifyToken(undefined, verifier))).message).toBe('missing bearer token');
    expect((await refusal(verifyToken('', verifier))).message).toBe('missing bearer token');
  });

  it('refuses an expired token as "token expired"', async () => {
    const token = await new SignJWT({ orgs: ['acme'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ana')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(secret));
    expect((await refusal(verifyToken(token, verifier))).message).toBe('token expired');
  });

  it('refuses a token signed with another key, alg none, garbage, no exp and bad claims as "invalid token", never echoing it', async () => {
    const other = await mintToken({ secret: `${secret}-other`, sub: 'ana', orgs: ['acme'], ttlSeconds: 60 });
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'ana', orgs: ['*'], exp: inAnHour() })}.`;
    const hs512 = await new SignJWT({ orgs: ['acme'] })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('ana')
      .setExpirationTime(inAnHour())
      .sign(new TextEncoder().encode(secret));
    const noExp = await new SignJWT({ orgs: ['acme'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ana')
      .sign(new TextEncoder().encode(secret));
    const badOrgs = await new SignJWT({ orgs: ['a b'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ana')
      .setExpirationTime(inAnHour())
      .sign(new TextEncoder().encode(secret));
    const noSub = await new SignJWT({ orgs: ['acme'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(inAnHour())
      .sign(new TextEncoder().encode(secret));
    const checks: string[] = [];
    for (const token of [other, none, hs512, noExp, badOrgs, noSub, 'garbage', 'a.b.c']) {
      const err = await refusal(verifyToken(token, verifier));
      expect(err.message).toBe('invalid token');
      expect(JSON.stringify(err.toInfo())).not.toContain(token);
      checks.push(err.check ?? 'none');
    }
    expect(checks.slice(0, 3)).toEqual([
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      'ERR_JOSE_ALG_NOT_ALLOWED',
      'ERR_JOSE_ALG_NOT_ALLOWED',
    ]);
  });

  it('checks issuer and audience when they are configured', async () => {
    const strict = createVerifier({ secret, issuer: 'https://id.example', audience: 'tabmesh' });
    const right = await mintToken({
      secret,
      sub: 'ana',
      orgs: ['acme'],
      ttlSeconds: 60,
      issuer: 'https://id.example',
      audience: 'tabmesh',
    });
    expect((await verifyToken(right, strict)).sub).toBe('ana');
    for (const wrong of [
      await mintToken({ secret, sub: 'ana', orgs: ['acme'], ttlSeconds: 60 }),
      await mintToken({
        secret,
        sub: 'ana',
        orgs: ['acme'],
        ttlSeconds: 60,
        issuer: 'https://evil.example',
        audience: 'tabmesh',
      }),
      await mintToken({
        secret,
        sub: 'ana',
        orgs: ['acme'],
        ttlSeconds: 60,
        issuer: 'https://id.example',
        audience: 'other',
      }),
    ]) {
      expect((await refusal(verifyToken(wrong, strict))).check).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    }
  });
});

describe('JWKS verifier', () => {
  let server: Server;
  let url: string;
  let sign: (claims: Record<string, unknown>, kid?: string) => Promise<string>;
  let served = 0;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    sign = (claims, kid = 'k1') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime(inAnHour()).sign(privateKey);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts an RS256 token signed by the key set and refuses an HS256 one when no secret is configured', async () => {
    const verifier = createVerifier({ jwksUrl: url, issuer: 'https://id.example' });
    const claims = await verifyToken(await sign({ sub: 'ana', orgs: ['*'], iss: 'https://id.example' }), verifier);
    expect(claims).toMatchObject({ sub: 'ana', orgs: ['*'] });
    expect(served).toBeGreaterThan(0);
    const hs = await mintToken({ secret, sub: 'ana', orgs: ['*'], ttlSeconds: 60, issuer: 'https://id.example' });
    expect((await refusal(verifyToken(hs, verifier))).check).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(
      (
        await refusal(
          verifyToken(await sign({ sub: 'ana', orgs: ['*'], iss: 'https://id.example' }, 'unknown'), verifier),
        )
      ).check,
    ).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });

  it('answers unavailable, not unauthenticated, when the key set cannot be fetched', async () => {
    const verifier = createVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const err = await verifyToken(await sign({ sub: 'ana', orgs: ['*'] }), verifier).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.Unavailable, retryable: true });
  });
});

describe('claims and helpers', () => {
  it('lets a token use its own orgs, or every org with ["*"]', () => {
    expect(mayUseOrg({ orgs: ['a', 'b'] }, 'b')).toBe(true);
    expect(mayUseOrg({ orgs: ['a', 'b'] }, 'c')).toBe(false);
    expect(mayUseOrg({ orgs: [] }, 'a')).toBe(false);
    expect(mayUseOrg({ orgs: ['*'] }, 'anything')).toBe(true);
  });

  it('reads only a well-formed bearer header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer  abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('reads ttls with units and refuses nonsense', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('15m')).toBe(900);
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('7d')).toBe(7 * 86_400);
    expect(() => parseTtl('1w')).toThrow(/ttl/);
    expect(() => parseTtl('0')).toThrow(/ttl/);
  });
});

import { createHmac } from 'node:crypto';
import { TestJwtSecret } from './test-config.js';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export type TestTokenOptions = { orgs?: string[]; ttlSeconds?: number; sub?: string; secret?: string };

/**
 * An HS256 bearer token for test gateways (which verify with TestJwtSecret). Synchronous, so URLs
 * and headers can be built inline; the gateway verifies it with jose like any other token.
 */
export function testToken(opts: TestTokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      sub: opts.sub ?? 'test',
      orgs: opts.orgs ?? ['*'],
      iat: now,
      exp: now + (opts.ttlSeconds ?? 3600),
    }),
  );
  const signature = createHmac('sha256', opts.secret ?? TestJwtSecret)
    .update(`${header}.${payload}`)
    .digest();
  return `${header}.${payload}.${b64url(signature)}`;
}

/** `Authorization` header of a test token for every org. */
export const testAuthHeader = (opts?: TestTokenOptions): Record<string, string> => ({
  authorization: `Bearer ${testToken(opts)}`,
});

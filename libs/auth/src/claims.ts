import { OrgIdSchema } from '@tabmesh/contracts';
import * as z from 'zod';

/** The `orgs` value that grants every org. */
export const AllOrgs = '*';

/**
 * What a verified token says: who (`sub`, logged with every request), which orgs it may use (ids,
 * or `["*"]` for all), and until when (`exp`, seconds since the epoch, required).
 */
export const ClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  orgs: z.union([z.tuple([z.literal(AllOrgs)]), z.array(OrgIdSchema).max(1000)]),
  exp: z.number().int().positive(),
});
export type Claims = z.infer<typeof ClaimsSchema>;

/** Whether a bearer of these claims may read or write anything of `org`. */
export function mayUseOrg(claims: Pick<Claims, 'orgs'>, org: string): boolean {
  const orgs: readonly string[] = claims.orgs;
  return orgs[0] === AllOrgs || orgs.includes(org);
}

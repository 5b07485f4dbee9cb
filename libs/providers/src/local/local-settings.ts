import { z } from 'zod';
import { describeZodError } from '@tabmesh/contracts';
import { ErrorCode, ProviderError } from '../errors.js';

const LocalSettingsSchema = z.object({
  TABMESH_STATE_DIR: z.string().min(1).default('.data'),
  /** Overrides the packaged binary (SANDBOX_AGENT_BIN is the SDK's own name for it). */
  SANDBOX_AGENT_BIN: z.string().min(1).optional(),
  TABMESH_SANDBOX_START_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  TABMESH_SESSION_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});
export type LocalSettings = z.infer<typeof LocalSettingsSchema>;

export function loadLocalSettings(env: Record<string, string | undefined>): LocalSettings {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = LocalSettingsSchema.safeParse(blank);
  if (!parsed.success) throw new ProviderError(ErrorCode.InvalidRequest, `TABMESH_PROVIDER=local: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

import { z } from 'zod';

/**
 * The SDK's SessionRecord, validated on the way in and out of JetStream. Agent-defined parts
 * (session init, config options, modes) are kept as opaque JSON; `agentSessionId` may be absent
 * (the mock agent returns none).
 */
export const SessionRecordSchema = z.looseObject({
  id: z.string().min(1),
  agent: z.string().min(1),
  agentSessionId: z.string().optional(),
  lastConnectionId: z.string(),
  createdAt: z.number(),
  destroyedAt: z.number().optional(),
  sandboxId: z.string().optional(),
  sessionInit: z.unknown().optional(),
  configOptions: z.array(z.unknown()).optional(),
  modes: z.unknown().nullable().optional(),
});

export const SessionEventSchema = z.object({
  id: z.string().min(1),
  eventIndex: z.number().int(),
  sessionId: z.string().min(1),
  createdAt: z.number(),
  connectionId: z.string(),
  sender: z.enum(['client', 'agent']),
  payload: z.unknown(),
});

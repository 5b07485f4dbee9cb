import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

const ulid = monotonicFactory();

/** Mints a tab id: a ULID, sortable by creation time even within one millisecond. */
export const mintTabId = (): string => ulid();

/** `clientRequestId` may hold any text; its KV key token is a hash of it. */
export const requestKey = (org: string, task: string, clientRequestId: string): string =>
  `${org}.${task}.${createHash('sha256').update(clientRequestId).digest('base64url').slice(0, 43)}`;

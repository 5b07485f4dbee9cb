import { waitFor } from '../wait.js';

/** Resolves once the gateway at `httpBase` answers `/readyz` with 200 (NATS up, buckets bound, watches consuming). */
export async function waitForReadyz(httpBase: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${httpBase}/readyz to answer 200`,
    async () => (await fetch(`${httpBase}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200,
    timeoutMs,
    50,
  );
}

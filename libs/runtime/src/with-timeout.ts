/**
 * `work`, or the error `onTimeout` makes once `ms` pass first (or the signal's reason once it
 * aborts). The work itself goes on; only the wait for it ends.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    const abort = () => reject(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    });
  });
}

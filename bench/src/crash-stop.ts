/**
 * What the bench has running (meshes, the baseline and its Redis) and must stop should it die: an
 * exception thrown outside a phase's `try` (a watch loop's, say) is an unhandled rejection, which
 * ends Node before any `finally` runs and would leave nats-server or Redis behind.
 */
const running = new Set<() => Promise<void>>();

/** Registers `stop` until the returned function is called (by the orderly stop). */
export function stopOnCrash(stop: () => Promise<void>): () => void {
  running.add(stop);
  return () => running.delete(stop);
}

/** On an uncaught exception or rejection: report it, stop what is registered (15 s at most), exit 1. */
export function installCrashStop(report: (err: unknown) => void, graceMs = 15_000): void {
  const crash = (err: unknown) => {
    report(err);
    const stops = [...running].map((stop) => stop().catch(() => undefined));
    running.clear();
    const deadline = new Promise((r) => setTimeout(r, graceMs).unref());
    void Promise.race([Promise.all(stops), deadline]).then(() => process.exit(1));
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
}

import { readFileSync, readdirSync } from 'node:fs';

/** The environment variable that marks a sandbox-agent process with the sandbox id it serves. */
export const SandboxIdEnv = 'TABMESH_SANDBOX_ID';

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ..." — the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

function readEnviron(pid: string): Map<string, string> | null {
  try {
    const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
    const env = new Map<string, string>();
    for (const entry of raw.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
  } catch {
    return null;
  }
}

/**
 * Live sandbox-agent server processes whose sandbox id satisfies `match`, found through /proc (Linux).
 * This sees processes that no record mentions, e.g. one spawned by a provisioner killed before it wrote
 * its record, which is what makes "never leave an orphan" checkable.
 */
export function findSandboxProcesses(match: (sandboxId: string) => boolean): { pid: number; sandboxId: string }[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: { pid: number; sandboxId: string }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const env = readEnviron(entry);
    const sandboxId = env?.get(SandboxIdEnv);
    if (!sandboxId || !match(sandboxId)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    // Only the server itself; its agent processes inherit the variable but die with its process group.
    if (!cmdline.split('\0').includes('server')) continue;
    const pid = Number(entry);
    if (isAlive(pid)) found.push({ pid, sandboxId });
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ends a detached sandbox and its agent processes (its process group): TERM, then KILL after `graceMs`. */
export async function killProcessGroup(pid: number, graceMs = 3000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(25);
  }
  signal('SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (Date.now() < hardDeadline && isAlive(pid)) await sleep(25);
}

import { readdirSync, readFileSync } from 'node:fs';
import { ErrorCode, ProviderError } from '../errors.js';

/** The environment variable that marks a sandbox-agent process with the sandbox id it serves. */
export const SandboxIdEnv = 'TABMESH_SANDBOX_ID';

/** Fields of /proc/<pid>/stat after "pid (comm) ", so index 0 is field 3 (the state letter). */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
  } catch {
    return null;
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  // kill(0, 0) and kill(-1, 0) address groups, not a process: neither is ever "a sandbox's pid".
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const fields = statFields(pid);
  if (!fields) return true; // no procfs: trust kill(0)
  return fields[0] !== 'Z';
}

/**
 * When the process started (field 22 of /proc/<pid>/stat, clock ticks since boot), or null. Recorded
 * beside the pid so a recycled pid (the sandbox died, later another process got its number, or the host
 * rebooted) is told apart from the sandbox it once was.
 */
export function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  return fields?.[19] ?? null;
}

/** Process group id (field 5 of /proc/<pid>/stat), or null. */
function processGroup(pid: number): number | null {
  const pgrp = Number(statFields(pid)?.[2]);
  return Number.isInteger(pgrp) ? pgrp : null;
}

function readEnviron(pid: number | string): Map<string, string> | null {
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

/** True when `pid` carries this sandbox's mark in its environment (a server or one of its agents). */
export function carriesMark(pid: number, sandboxId: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  return readEnviron(pid)?.get(SandboxIdEnv) === sandboxId;
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

/** Refusal to signal a process that is not this sandbox's: nothing was signalled. */
export function foreignProcessError(sandboxId: string, pid: number): ProviderError {
  return new ProviderError(ErrorCode.Internal, 'refused to stop a process that does not belong to the sandbox', {
    details: { sandboxId, pid, why: `pid ${pid} does not carry ${SandboxIdEnv}=${sandboxId}` },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ends one sandbox's server and its agent processes (its process group): TERM, then KILL after
 * `graceMs`. Every signal goes only to a pid > 1 that carries `TABMESH_SANDBOX_ID=<sandboxId>`, checked
 * again right before it is sent, and to its group only when that pid leads the group (the detached
 * spawn makes it so): `process.kill(-pid)` never reaches a group this sandbox does not own. A pid that is
 * not the sandbox's throws (ProviderError, not retryable) and nothing is signalled.
 */
export async function killSandboxProcess(pid: number, sandboxId: string, graceMs = 3000): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 1) throw foreignProcessError(sandboxId, pid);
  if (!isAlive(pid)) return;
  if (!carriesMark(pid, sandboxId)) throw foreignProcessError(sandboxId, pid);
  const signal = (sig: NodeJS.Signals) => {
    // Gone, or replaced by another process since the last look: nothing of ours left to signal.
    if (!isAlive(pid) || !carriesMark(pid, sandboxId)) return;
    try {
      if (processGroup(pid) === pid) process.kill(-pid, sig);
      else process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
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

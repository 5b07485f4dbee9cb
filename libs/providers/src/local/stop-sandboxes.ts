import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { carriesMark, isAlive, killSandboxProcess, SandboxIdEnv } from './processes.js';
import { SandboxRecords } from './sandbox-record.js';

/** Marks a local sandbox-agent server with the state dir whose provider started it. */
export const SandboxStateDirEnv = 'TABMESH_SANDBOX_STATE_DIR';

/**
 * Live sandbox-agent servers started for `stateDir`, found through /proc by their environment marks
 * (so also one whose record was never written). Each server's agents share its process group.
 */
export function localSandboxProcesses(stateDir: string): { pid: number; sandboxId: string }[] {
  const want = resolve(stateDir);
  const found: { pid: number; sandboxId: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return found;
  }
  for (const entry of entries) {
    let environ: string;
    let cmdline: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const vars = new Map(
      environ.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
    );
    const sandboxId = vars.get(SandboxIdEnv);
    if (!sandboxId || vars.get(SandboxStateDirEnv) !== want || !cmdline.split('\0').includes('server')) continue;
    const pid = Number(entry);
    if (isAlive(pid)) found.push({ pid, sandboxId });
  }
  return found;
}

/**
 * Stops every local sandbox of `stateDir` (recorded or only marked) and forgets their records: what
 * `pnpm start` does once its services have drained. A provisioner never calls it; a crashed one
 * leaves its sandboxes for the next to adopt. Returns how many servers were stopped.
 */
export async function stopLocalSandboxes(stateDir: string): Promise<number> {
  const records = new SandboxRecords(stateDir);
  // Only processes that carry a sandbox's mark are signalled: a stale record's pid may belong to anyone now.
  const targets = new Map(localSandboxProcesses(stateDir).map((p) => [p.pid, p.sandboxId]));
  for (const record of records.list()) {
    if (record.pid !== null && record.pid > 1 && isAlive(record.pid) && carriesMark(record.pid, record.id))
      targets.set(record.pid, record.id);
  }
  await Promise.all([...targets].map(([pid, sandboxId]) => killSandboxProcess(pid, sandboxId)));
  for (const record of records.list()) records.remove(record.id);
  return targets.size;
}

import { mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive } from './processes.js';

/** What a process needs to find, reuse or kill a local sandbox: written beside the sandbox, read by anyone. */
export const SandboxRecordSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  org: z.string().min(1),
  task: z.string().min(1),
  generation: z.number().int().min(0),
  /** Null between writing the record and the spawn returning; the process is then found by its env mark. */
  pid: z.number().int().positive().nullable(),
  port: z.number().int().positive(),
  token: z.string().min(1),
  state: z.enum(['starting', 'running']),
  createdAt: z.string(),
});
export type SandboxRecord = z.infer<typeof SandboxRecordSchema>;

/** Deterministic sandbox id per task generation: the same request always names the same sandbox. */
export const localSandboxId = (org: string, task: string, generation: number): string => `${org}.${task}.g${generation}`;

/** Files under `${stateDir}/sandboxes/`: `{id}.json` (record), `{id}.lock` (owner), `{id}.log` (server output). */
export class SandboxRecords {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'sandboxes');
    mkdirSync(this.dir, { recursive: true });
  }

  recordPath = (id: string): string => join(this.dir, `${id}.json`);
  lockPath = (id: string): string => join(this.dir, `${id}.lock`);
  logPath = (id: string): string => join(this.dir, `${id}.log`);

  read(id: string): SandboxRecord | null {
    let raw: string;
    try {
      raw = readFileSync(this.recordPath(id), 'utf8');
    } catch {
      return null;
    }
    try {
      return SandboxRecordSchema.parse(JSON.parse(raw));
    } catch {
      return null; // a torn or foreign file is treated as absent; the caller cleans up by env mark
    }
  }

  /** Atomic replace (write + rename), so readers never see half a record. */
  write(record: SandboxRecord): void {
    const path = this.recordPath(record.id);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(SandboxRecordSchema.parse(record)));
    renameSync(tmp, path);
  }

  remove(id: string): void {
    rmSync(this.recordPath(id), { force: true });
  }

  list(): SandboxRecord[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.read(f.slice(0, -'.json'.length)))
      .filter((r): r is SandboxRecord => r !== null);
  }

  /**
   * Takes the per-sandbox lock (O_EXCL create). A lock whose owner process is dead (a provisioner that
   * was SIGKILLed) is broken. Returns a release function, or null when a live owner holds it.
   */
  tryLock(id: string): (() => void) | null {
    const path = this.lockPath(id);
    const owner = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    for (let i = 0; i < 2; i++) {
      try {
        const fd = openSync(path, 'wx');
        writeFileSync(fd, owner);
        closeSync(fd);
        return () => {
          try {
            if (readFileSync(path, 'utf8') === owner) rmSync(path, { force: true });
          } catch {
            /* already gone */
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let held = '';
      try {
        held = readFileSync(path, 'utf8');
      } catch {
        continue; // released meanwhile: try again
      }
      const ownerPid = Number(held.split(':')[0]);
      // An empty file is a lock being written right now, unless its writer died in between (old file).
      if (!held) {
        const st = statSync(path, { throwIfNoEntry: false });
        if (!st) continue;
        if (Date.now() - st.mtimeMs < 5000) return null;
      } else if (!Number.isInteger(ownerPid) || ownerPid <= 0 || isAlive(ownerPid)) {
        return null;
      }
      rmSync(path, { force: true });
    }
    return null;
  }
}

import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse, SandboxIdSchema } from '@tabmesh/contracts';
import { z } from 'zod';
import { isAlive } from './processes.js';

/**
 * What a process needs to find, reuse or kill a local sandbox. It holds the sandbox's token, so the
 * directory is 0700 and every file in it 0600: readable by the user the mesh runs as, nobody else.
 */
export const SandboxRecordSchema = z.object({
  v: z.literal(1),
  id: SandboxIdSchema,
  org: z.string().min(1),
  task: z.string().min(1),
  generation: z.number().int().min(0),
  /** Null between writing the record and the spawn returning; the process is then found by its env mark. */
  pid: z.number().int().positive().nullable(),
  /** Start time of `pid` (/proc/<pid>/stat field 22): a live pid with another start time is a recycled one. */
  pidStart: z.string().regex(/^\d+$/).nullable().optional(),
  port: z.number().int().positive(),
  token: z.string().min(1),
  state: z.enum(['starting', 'running']),
  createdAt: z.string(),
});
export type SandboxRecord = z.infer<typeof SandboxRecordSchema>;

/**
 * Deterministic sandbox id per task generation: the same request always names the same sandbox. Org and
 * task ids may each be 64 characters and may contain the only separators the id alphabet has ("-", "_"),
 * so the pair is hashed: `local-<96 bits of sha256(org/task)>-g<generation>`, at most 48 characters.
 */
export const localTaskPrefix = (org: string, task: string): string =>
  `local-${createHash('sha256').update(`${org}/${task}`).digest('hex').slice(0, 24)}-g`;
export const localSandboxId = (org: string, task: string, generation: number): string =>
  `${localTaskPrefix(org, task)}${generation}`;

/** Refuses an id that is not a sandbox id before it becomes part of a path (ValidationError). */
const checked = (id: string): string => parse(SandboxIdSchema, id, 'sandbox id');

/** Files under `${stateDir}/sandboxes/`: `{id}.json` (record), `{id}.lock` (owner), `{id}.log` (server output). */
export class SandboxRecords {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'sandboxes');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // A directory made by an earlier version (or under a loose umask) is tightened too.
    chmodSync(this.dir, 0o700);
  }

  recordPath = (id: string): string => join(this.dir, `${checked(id)}.json`);
  lockPath = (id: string): string => join(this.dir, `${checked(id)}.lock`);
  logPath = (id: string): string => join(this.dir, `${checked(id)}.log`);

  /** Opens the server log for appending, owner-only: it may hold what the agents print. */
  openLog(id: string): number {
    const path = this.logPath(id);
    const fd = openSync(path, 'a', 0o600);
    chmodSync(path, 0o600);
    return fd;
  }

  read(id: string): SandboxRecord | null {
    const path = this.recordPath(id); // outside the try: a bad id is refused, not "absent"
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch {
      return null;
    }
    try {
      const record = SandboxRecordSchema.parse(JSON.parse(raw));
      return record.id === id ? record : null;
    } catch {
      return null; // a torn or foreign file is treated as absent; the caller cleans up by env mark
    }
  }

  /**
   * Atomic replace (write + rename), so readers never see half a record. The temporary file is created
   * new (`wx`) with mode 0600, so the token is never on disk under looser permissions, not even briefly.
   */
  write(record: SandboxRecord): void {
    const path = this.recordPath(record.id);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(SandboxRecordSchema.parse(record)), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  remove(id: string): void {
    rmSync(this.recordPath(id), { force: true });
  }

  list(): SandboxRecord[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .filter((id) => SandboxIdSchema.safeParse(id).success)
      .map((id) => this.read(id))
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
        const fd = openSync(path, 'wx', 0o600);
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

import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/**
 * Overwrites `secret` in the argument strings of a running process, so /proc/<pid>/cmdline (what `ps`
 * shows any local user) no longer contains it. Returns true when the command line is clean afterwards.
 *
 * Why: sandbox-agent 0.4 takes its bearer token only as `--token` (no environment variable, no token
 * file: see `sandbox-agent server --help`). /proc/<pid>/cmdline is read live from the process's
 * argument area, which /proc/<pid>/mem lets the same user (the parent, under Yama ptrace_scope 1)
 * rewrite. The server copies its arguments when it parses them at start-up, so once it answers an
 * authenticated health check the original strings are dead memory and can be blanked. The token is
 * visible only between the spawn and that first healthy answer (a few hundred milliseconds).
 */
export function hideArgument(pid: number, secret: string): boolean {
  if (!secret) return true;
  const needle = Buffer.from(secret);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
    // Fields 48 and 49 (arg_start, arg_end); index 0 is field 3.
    const start = Number(fields[45]);
    const end = Number(fields[46]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return false;
    const fd = openSync(`/proc/${pid}/mem`, 'r+');
    try {
      const args = Buffer.alloc(end - start);
      readSync(fd, args, 0, args.length, start);
      for (let at = args.indexOf(needle); at >= 0; at = args.indexOf(needle, at + needle.length)) {
        writeSync(fd, Buffer.alloc(needle.length, '*'), 0, needle.length, start + at);
      }
    } finally {
      closeSync(fd);
    }
    return !readFileSync(`/proc/${pid}/cmdline`).includes(needle);
  } catch {
    return false;
  }
}

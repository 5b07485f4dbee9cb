import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, launchNatsServer, serverThreads } from '../src/index.js';

describe('launching nats-server', () => {
  it('gives the Go runtime half the cores, at least one, unless GOMAXPROCS is set', () => {
    expect(serverThreads({}, 2)).toBe('1');
    expect(serverThreads({}, 1)).toBe('1');
    expect(serverThreads({}, 16)).toBe('8');
    expect(serverThreads({ GOMAXPROCS: '3' }, 2)).toBe('3');
    // Not a thread count: the default holds.
    expect(serverThreads({ GOMAXPROCS: 'zero' }, 8)).toBe('4');
    expect(serverThreads({ GOMAXPROCS: '0' }, 8)).toBe('4');
  });

  it('starts the server with that GOMAXPROCS in its environment', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'tabmesh-launch-'));
    const proc = await launchNatsServer({ port: await freePort(), storeDir });
    try {
      const environ = (await readFile(`/proc/${proc.pid}/environ`, 'utf8')).split('\0');
      expect(environ).toContain(`GOMAXPROCS=${serverThreads()}`);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});

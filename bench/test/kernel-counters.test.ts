import { closeSync, openSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelCounters, kernelSpent } from '../src/machine.js';
import { kernelPerRequest } from '../src/mesh.js';

describe('kernel counters from /proc', () => {
  it('count the write calls of this process and the context switches of its waits', () => {
    const before = kernelCounters(process.pid);
    const fd = openSync('/dev/null', 'w');
    for (let i = 0; i < 200; i++) writeSync(fd, 'x');
    closeSync(fd);
    // Each wait blocks the thread in the kernel, which switches away from it.
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 20; i++) Atomics.wait(cell, 0, 0, 2);
    const spent = kernelSpent({ self: before }, { self: kernelCounters(process.pid) }).self!;
    expect(spent.ioCalls).toBeGreaterThanOrEqual(200);
    expect(spent.switches).toBeGreaterThanOrEqual(20);
  });

  it('are NaN for a process that is gone, so a lost reading never passes for zero', () => {
    const gone = kernelCounters(2 ** 22 + 1);
    expect(gone.ioCalls).toBeNaN();
    expect(gone.switches).toBeNaN();
  });

  it('per tab, add up the processes of one kind', () => {
    const perTab = kernelPerRequest(
      {
        'provisioner#1': { ioCalls: 100, switches: 40 },
        'provisioner#2': { ioCalls: 50, switches: 10 },
        'nats-server': { ioCalls: 300, switches: 25 },
      },
      100,
    );
    expect(perTab).toEqual({
      provisioner: { ioCalls: 1.5, switches: 0.5 },
      'nats-server': { ioCalls: 3, switches: 0.3 },
    });
  });
});

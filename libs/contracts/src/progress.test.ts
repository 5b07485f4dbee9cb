import { describe, expect, it } from 'vitest';
import { progressText, SandboxLostDetail, Step, sandboxLimitDetail, waitsForSandboxSlot } from './progress.js';

describe('waitsForSandboxSlot', () => {
  it('recognises the progress text of a provisioning parked at the sandbox limit, and nothing else', () => {
    expect(waitsForSandboxSlot(progressText(Step.Queued, sandboxLimitDetail(32)))).toBe(true);
    expect(waitsForSandboxSlot(progressText(Step.Queued, sandboxLimitDetail(1)))).toBe(true);
    for (const other of [
      progressText(Step.Queued),
      progressText(Step.Queued, '3 ahead'),
      progressText(Step.Queued, SandboxLostDetail),
      progressText(Step.CreatingSandbox),
      'sandbox limit 32 reached',
      null,
      undefined,
    ])
      expect(waitsForSandboxSlot(other), String(other)).toBe(false);
  });
});

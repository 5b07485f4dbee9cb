import { describe, expect, it } from 'vitest';
import { jserrors } from '@nats-io/jetstream/internal';
import { NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { TabmeshError } from '@tabmesh/contracts';
import { isTransientBusError } from './transient.js';

describe('transient bus errors', () => {
  it('recognises outages of the bus: time-outs, no responders, JetStream briefly not enabled', () => {
    expect(isTransientBusError(new TimeoutError())).toBe(true);
    expect(isTransientBusError(new NoRespondersError('tab.create'))).toBe(true);
    expect(isTransientBusError(new jserrors.JetStreamNotEnabled('jetstream is not enabled'))).toBe(true);
  });

  it('leaves the job’s own failures alone', () => {
    expect(isTransientBusError(new Error('boom'))).toBe(false);
    expect(isTransientBusError(new TabmeshError('session_failed', 'refused', { retryable: true }))).toBe(false);
    expect(isTransientBusError('not an error')).toBe(false);
  });
});

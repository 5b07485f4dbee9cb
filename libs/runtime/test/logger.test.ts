import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, jobLogger } from '../src/logger.js';

/** A pino destination that keeps every line, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream, text: () => JSON.stringify(lines) };
}

const Canary = 'canary-secret-4242';

/** The value at a dotted path of a parsed line; undefined where any step is missing or not an object. */
function field(line: unknown, path: string): unknown {
  let at: unknown = line;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

describe('logger redaction', () => {
  it('prints [Redacted] for tokens, passwords, secrets and authorization headers, keeps the rest', () => {
    const out = capture();
    const logger = createLogger('test', 'info', out.stream);
    const sandbox = { provider: 'local', id: 'local-abc-g1', endpoint: 'http://127.0.0.1:1', token: Canary };
    logger.info({ sandbox }, 'sandbox');
    logger.info({ job: { op: 'teardown', sandbox } }, 'job');
    logger.info({ task: { value: { sandbox } } }, 'task record');
    logger.info(
      { req: { headers: { authorization: `Bearer ${Canary}`, cookie: `s=${Canary}`, host: 'h' } } },
      'request',
    );
    logger.info(
      { nats: { user: 'gateway', password: Canary }, secret: Canary, config: { TABMESH_JWT_SECRET: Canary } },
      'config',
    );
    logger.info({ query: { access_token: Canary } }, 'upgrade');
    jobLogger(logger, { org: 'o', token: Canary }).info('child');

    expect(out.lines).toHaveLength(7);
    expect(out.text()).not.toContain(Canary);
    const [a, b, c, d, e, f, g] = out.lines;
    expect(field(a, 'sandbox')).toEqual({ ...sandbox, token: '[Redacted]' });
    expect(field(b, 'job.sandbox.token')).toBe('[Redacted]');
    expect(field(c, 'task.value.sandbox.token')).toBe('[Redacted]');
    expect(field(d, 'req.headers')).toEqual({ authorization: '[Redacted]', cookie: '[Redacted]', host: 'h' });
    expect(field(e, 'nats')).toEqual({ user: 'gateway', password: '[Redacted]' });
    expect(field(e, 'secret')).toBe('[Redacted]');
    expect(field(e, 'config.TABMESH_JWT_SECRET')).toBe('[Redacted]');
    expect(field(f, 'query.access_token')).toBe('[Redacted]');
    expect(field(g, 'token')).toBe('[Redacted]');
    expect(field(g, 'org')).toBe('o');
  });

  it('builds a nested job logger only when it writes, once, with the bindings of both levels', () => {
    const out = capture();
    const root = createLogger('test', 'info', out.stream);
    const child = vi.spyOn(root, 'child');
    const log = jobLogger(jobLogger(root, { correlationId: 'c1', token: Canary }), { org: 'o', task: 't' });
    log.debug('not at info');
    expect(child).not.toHaveBeenCalled();
    log.info('one');
    log.info('two');
    expect(child).toHaveBeenCalledTimes(1);
    expect(out.lines).toHaveLength(2);
    expect(out.text()).not.toContain(Canary);
    expect(field(out.lines[1], 'correlationId')).toBe('c1');
    expect(field(out.lines[1], 'org')).toBe('o');
    expect(field(out.lines[1], 'token')).toBe('[Redacted]');
  });

  it("redacts a token carried in an error's details", () => {
    const out = capture();
    const err = Object.assign(new Error('sandbox failed to start'), { details: { token: Canary, path: '/x' } });
    createLogger('test', 'info', out.stream).error({ err }, 'failed');
    expect(out.text()).not.toContain(Canary);
    expect(field(out.lines[0], 'err.details')).toEqual({ token: '[Redacted]', path: '/x' });
  });
});

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerScheme } from '../src/http/api-routes.js';
import { openApiText, renderOpenApiDocument } from '../src/http/openapi.js';
import { ProblemContentType } from '../src/http/problem.js';
import { type Harness, startHarness } from './support/harness.js';

const committedPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi.json');
/** The workbench page, not part of the API (libs/workbench-ui). */
const pageRoutes = new Set(['GET /', 'GET /workbench/*']);

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};

const noToken = (h: Harness, path: string) => fetch(`http://127.0.0.1:${h.gateway.httpPort}${path}`);

describe('the OpenAPI document', () => {
  let h: Harness;
  let served: Doc;
  beforeAll(async () => {
    h = await startHarness();
    const res = await noToken(h, '/openapi.json');
    expect(res.status).toBe(200);
    served = (await res.json()) as Doc;
  });
  afterAll(async () => h.stop());

  it('is committed exactly as the route list renders it (run `pnpm schemas` after changing a route)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(openApiText(renderOpenApiDocument()));
  });

  it('is served without a token and equals the committed one', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(served).toEqual(JSON.parse(readFileSync(committedPath, 'utf8')));
  });

  it('describes every route the app registers, and no route the app does not have', () => {
    const registered = h.gateway.httpRoutes
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .filter((r) => !pageRoutes.has(r));
    const documented = Object.entries(served.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(registered.length).toBeGreaterThanOrEqual(13);
    expect(new Set(documented)).toEqual(new Set(registered));
  });

  it('puts the bearer JWT scheme on every /v1 operation and on no other', () => {
    expect(served.components.securitySchemes[BearerScheme]).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const [path, ops] of Object.entries(served.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        if (path.startsWith('/v1/')) {
          expect(op.security, where).toEqual([{ [BearerScheme]: [] }]);
          expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['400', '401', '403', '503']));
        } else {
          expect(op.security, where).toBeUndefined();
          expect(
            Object.keys(op.responses).some((s) => s === '401' || s === '403'),
            where,
          ).toBe(false);
        }
      }
    }
  });

  it('declares each path parameter, and every error answer as a problem+json Problem', () => {
    for (const [path, ops] of Object.entries(served.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        const params = (op.parameters ?? []).filter((p) => p.in === 'path');
        expect(params.map((p) => p.name).sort(), where).toEqual([...names].sort());
        for (const p of params) expect(p.required, `${where} ${p.name}`).toBe(true);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          expect(response.content?.[ProblemContentType]?.schema?.$ref, `${where} ${status}`).toBe(
            '#/components/schemas/Problem',
          );
        }
      }
    }
  });

  it('documents the create body and the 404/409 answers of the routes that give them', () => {
    const tabs = served.paths['/v1/orgs/{org}/tasks/{task}/tabs']!;
    expect(tabs.post).toMatchObject({
      requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateTabBody' } } } },
    });
    expect(Object.keys(tabs.post!.responses)).toEqual(expect.arrayContaining(['200', '201', '413', '415']));
    const retry = served.paths['/v1/orgs/{org}/tasks/{task}/tabs/{tab}/retry']!.post!;
    expect(Object.keys(retry.responses)).toEqual(expect.arrayContaining(['202', '404', '409']));
  });

  it('serves a reference page at /docs without a token, reading /openapi.json', async () => {
    const res = await noToken(h, '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('/openapi.json');
  });

  it('still refuses a /v1 route without a token', async () => {
    expect((await noToken(h, '/v1/orgs/o/tasks/t')).status).toBe(401);
  });
});

import { type Hook, OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { describeZodError, ValidationError } from '@tabmesh/contracts';
import { apiRoutes, BearerScheme, docsRoute, openApiRoute } from './api-routes.js';
import type { AppEnv } from './app-env.js';

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Registry = OpenAPIHono['openAPIRegistry'];

const documentConfig: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'tabmesh gateway',
    version: '1',
    description:
      'The HTTP API of the tabmesh gateway (DESIGN.md "HTTP API"). Every `/v1` route needs a bearer JWT ' +
      '(`orgs` claim naming the org, or `["*"]`); errors are `application/problem+json` with a stable `code`. ' +
      'Live updates are on the WebSocket API (port 8081, `/v1/ws`), which this document does not cover.',
  },
  servers: [{ url: 'http://127.0.0.1:8080' }],
};

const bearerScheme = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'HS256 with TABMESH_JWT_SECRET, or signed by the keys at TABMESH_JWKS_URL; `exp` required.',
} as const;

/** Adds the components every document shares to a registry (the app's or a standalone one). */
function registerComponents(registry: Registry): void {
  registry.registerComponent('securitySchemes', BearerScheme, bearerScheme);
}

/** The document of an app, with the same settings whoever renders it. */
export function generateDocument(app: OpenAPIHono<AppEnv>): OpenApiDocument {
  return app.getOpenAPI31Document(documentConfig);
}

/** The document from the route list alone, without a running app: what `pnpm schemas` commits. */
export function renderOpenApiDocument(): OpenApiDocument {
  const app = new OpenAPIHono<AppEnv>();
  registerComponents(app.openAPIRegistry);
  for (const route of apiRoutes) app.openAPIRegistry.registerPath(route);
  return generateDocument(app);
}

/** The committed file's text: stable key order from the route list, two-space JSON, final newline. */
export const openApiText = (doc: OpenApiDocument): string => `${JSON.stringify(doc, null, 2)}\n`;

/**
 * Path parameters that fail their schema leave as the same 400 problem the handlers raised before
 * the routes were OpenAPI routes: `path: <field>: <problem>`.
 */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) {
    const error = result.error as Parameters<typeof describeZodError>[0];
    throw new ValidationError(
      `${result.target === 'param' ? 'path' : result.target}: ${describeZodError(error)}`,
      error.issues,
    );
  }
  return undefined;
};

/**
 * `/openapi.json` from what the app registered, and `/docs`, the Scalar reference page over it.
 * The page loads its script from Scalar's CDN by default; `cdn` points it at a self-hosted copy of
 * `@scalar/api-reference`'s standalone bundle where the browser has no internet.
 */
export function registerDocRoutes(app: OpenAPIHono<AppEnv>, options: { docsCdn?: string } = {}): void {
  registerComponents(app.openAPIRegistry);
  let served: OpenApiDocument | undefined;
  app.openapi(openApiRoute, (c) => {
    served ??= generateDocument(app);
    return c.json(served as unknown as Record<string, unknown>, 200);
  });
  const page = Scalar<AppEnv>({
    url: openApiRoute.path,
    pageTitle: 'tabmesh API',
    ...(options.docsCdn ? { cdn: options.docsCdn } : {}),
  });
  app.openapi(docsRoute, (c, next) => page(c, next) as ReturnType<typeof c.html>);
}

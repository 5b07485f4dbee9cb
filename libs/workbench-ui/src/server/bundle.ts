import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page's entry point; everything it imports (the client, the contracts, zod) goes in the bundle. */
export const PageEntry = fileURLToPath(new URL('../page/main.ts', import.meta.url));

/**
 * Bundles the page for browsers, in memory. Built from source when the gateway first serves it,
 * so no generated file is committed and none can drift from the code.
 */
export async function bundlePage(opts: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [PageEntry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output for the workbench page');
  return file.text;
}

/**
 * Compiles the four services to JavaScript for the container image: one esbuild bundle per service
 * (`dist/deploy/services/<service>.js`) plus a `node_modules` with only the packages the bundles
 * leave external, copied from this install, so their versions are exactly the lockfile's.
 *
 *   pnpm build:services            (deploy/Dockerfile runs it in its build stage; deploy/up.sh on the host)
 *
 * Why bundle: the workspace packages export `./src/index.ts`, so plain `tsc` output would still
 * import TypeScript from the other packages. A bundle per service is the compiled form with no `tsx`.
 * Why some packages stay external: uWebSockets.js loads a native `.node` file by platform, the
 * sandbox-agent CLI package ships a binary the local provider resolves through `require.resolve`,
 * the sandbox-agent SDK imports vendor SDKs lazily (a missing one must fail when that provider is
 * chosen, not at build time), and pino resolves its transports and worker files at run time.
 */

import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceStartOrder } from '@tabmesh/contracts';
import { build, type Plugin } from 'esbuild';
import { bundlePage } from '../libs/workbench-ui/src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'deploy');

export const Services = ServiceStartOrder;

/** External package -> the workspace package that declares it (its install is the one copied). */
const Externals: Record<string, string> = {
  'uWebSockets.js': 'services/gateway',
  'sandbox-agent': 'libs/providers',
  '@sandbox-agent/cli-linux-x64': 'libs/providers',
  pino: 'libs/runtime',
};

type PackageJson = {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const readPackage = (dir: string): PackageJson =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

/**
 * The workbench page is bundled by esbuild when the gateway first serves it, from TypeScript sources
 * next to the handler. In the image neither esbuild nor those sources exist, so the page is bundled
 * now and the handler's `./bundle.js` is replaced by a module that returns it; the handler's static
 * files are copied beside the bundle and its `import.meta.url` pointed at them.
 */
function workbenchPlugin(page: string): Plugin {
  const serverDir = join(root, 'libs', 'workbench-ui', 'src', 'server');
  return {
    name: 'tabmesh-workbench-prebuilt',
    setup(b) {
      b.onResolve({ filter: /^\.\/(server\/)?bundle\.js$/ }, (args) =>
        dirname(args.importer).startsWith(join(root, 'libs', 'workbench-ui', 'src'))
          ? { path: 'workbench-page', namespace: 'prebuilt' }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'prebuilt' }, () => ({
        contents: `export const PageEntry = '';\nexport async function bundlePage() { return ${JSON.stringify(page)}; }\n`,
        loader: 'js',
      }));
      b.onLoad({ filter: /workbench-ui[\\/]src[\\/]server[\\/]handler\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url'))
          throw new Error(
            `${args.path}: expected import.meta.url (the static files lookup); update scripts/build-services.ts`,
          );
        const here = `new URL('./workbench-ui/src/server/${basename(args.path, '.ts')}.js', import.meta.url)`;
        return { contents: source.replaceAll('import.meta.url', here), loader: 'ts', resolveDir: serverDir };
      });
    },
  };
}

async function bundleServices(): Promise<void> {
  const page = await bundlePage({ minify: true });
  for (const service of Services) {
    await build({
      entryPoints: [join(root, 'services', service, 'src', 'main.ts')],
      outfile: join(out, 'services', `${service}.js`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: Object.keys(Externals),
      // Bundled CommonJS packages call require(); ESM output has none unless it is made here.
      banner: {
        js: "import { createRequire as __tabmeshRequire } from 'node:module';\nconst require = __tabmeshRequire(import.meta.url);",
      },
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      plugins: service === 'gateway' ? [workbenchPlugin(page)] : [],
    });
  }
  cpSync(join(root, 'libs', 'workbench-ui', 'static'), join(out, 'services', 'workbench-ui', 'static'), {
    recursive: true,
  });
}

/** Node's lookup path for `name` from a package's real directory (pnpm keeps a package's deps as its siblings). */
function findDependency(fromDir: string, name: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (dirname(dir) === dir) return null;
  }
}

/** Files a package does not need at run time in the image; kept small and explicit. */
function prune(name: string, dir: string): void {
  if (name === 'uWebSockets.js') {
    // One native addon per platform and Node ABI is shipped (~110 MB); the image needs one.
    // (`dist/` holds a JS fallback and more copies of the addons.)
    const keep = `uws_linux_x64_${process.versions.modules}.node`;
    for (const sub of ['binaries', 'dist']) {
      for (const file of readdirSync(join(dir, sub)))
        if (file.endsWith('.node') && !(sub === 'binaries' && file === keep)) rmSync(join(dir, sub, file));
    }
    rmSync(join(dir, 'docs'), { recursive: true, force: true });
  }
  // pnpm skips this package's `chmod +x` postinstall unless its build is approved.
  if (name === '@sandbox-agent/cli-linux-x64') chmodSync(join(dir, 'bin', 'sandbox-agent'), 0o755);
}

/**
 * Copies the externals and their dependency closure into `dist/deploy/node_modules`, hoisted like npm
 * does (a second version of a name nests under the package that needs it).
 */
function copyExternals(): Record<string, string> {
  const modules = join(out, 'node_modules');
  const placed = new Map<string, string>(); // install path -> version
  const pinned: Record<string, string> = {};
  const place = (name: string, realDir: string, parentInstall: string | null): void => {
    const pkg = readPackage(realDir);
    const top = join(modules, name);
    let dest = top;
    if (placed.has(top)) {
      if (placed.get(top) === pkg.version) return;
      if (!parentInstall) throw new Error(`two versions of ${name} requested at the top level`);
      dest = join(parentInstall, 'node_modules', name);
      if (placed.get(dest) === pkg.version) return;
    }
    placed.set(dest, pkg.version);
    cpSync(realDir, dest, {
      recursive: true,
      dereference: true,
      filter: (src) => !relative(realDir, src).split(/[\\/]/).includes('node_modules'),
    });
    prune(name, dest);
    // Peers count when installed (pnpm links the resolved peer beside the package, e.g. zod for the
    // ACP SDK); the vendor SDKs sandbox-agent lists as peers are not installed and stay out.
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      const found = findDependency(realDir, dep);
      if (found) place(dep, found, dest);
      else if (pkg.dependencies?.[dep]) throw new Error(`${pkg.name}: dependency ${dep} is not installed`);
    }
  };
  for (const [name, owner] of Object.entries(Externals)) {
    const found = findDependency(join(root, owner), name);
    if (!found) throw new Error(`${owner}: ${name} is not installed (run pnpm install)`);
    const { name: realName, version } = readPackage(found);
    pinned[name] = realName === name ? version : `npm:${realName}@${version}`;
    place(name, found, null);
  }
  return pinned;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await bundleServices();
const dependencies = copyExternals();
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ name: 'tabmesh-services', private: true, type: 'module', dependencies }, null, 2)}\n`,
);
process.stdout.write(`built ${Services.length} services into ${relative(root, out)}\n`);

// The repository's lint rules (ESLint flat config), run once over the whole tree by `npm run lint` and
// by `npm test` (scripts/lint.ts). Only what keeps the code easy to change is checked: no import cycles,
// the dependency directions of DESIGN.md §5 and STYLE.md's layout, no unused code, `import type` for types.
// Formatting is not linted. Unused exports and files are knip's job (knip.jsonc), not ESLint's.
// Parsing is syntax-only (no type information), which keeps a full run to seconds on a small machine.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import unusedImports from 'eslint-plugin-unused-imports';
import tseslint from 'typescript-eslint';

/** Package names the engine must not import: it is a plain library with no HTTP and no disk. */
const httpAndDisk = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'http', 'node:http', 'https', 'node:https', 'http2',
  'node:http2', 'net', 'node:net', 'dgram', 'node:dgram', 'child_process', 'node:child_process',
  'undici', 'fastify', 'pino', '@conifer/store-client', '@conifer/database',
].map((name) => ({ name, message: 'packages/engine is a library with no HTTP and no disk (DESIGN.md §5): the vector store wraps it.' }));
const httpAndDiskPatterns = [
  { group: ['@nestjs/*', '@fastify/*', 'fastify-*'], message: 'packages/engine is a library with no HTTP (DESIGN.md §5).' },
];

/** What tells the vector store about tenants: it gets index and namespace operations from the gateway only. */
const tenancy = ['@prisma/client', '@prisma/adapter-pg', 'pg', 'ioredis', '@conifer/keys', '@conifer/database'].map(
  (name) => ({ name, message: 'The vector store knows nothing of organizations, keys, Postgres or Redis (DESIGN.md §5).' }),
);

const apps = ['@conifer/gateway', '@conifer/vector-store', '@conifer/console'].map((name) => ({
  name,
  message: 'packages/ never import from apps/ (DESIGN.md §5): move what both need into a package.',
}));
const appPatterns = [{ group: ['**/apps/**'], message: 'packages/ never import from apps/ (DESIGN.md §5).' }];

const gateway = './apps/gateway/src';
/**
 * The gateway's folders, bottom to top (apps/gateway/README.md, "Layering"): a folder imports its own level
 * and the levels below, never above; the features (level 6) never import one another; proxy/ sits above the
 * features whose services it uses on every request. The composition roots (app.module.ts, app.ts, main.ts,
 * openapi/openapi.ts) import anything.
 */
const gatewayLevels = [
  ['common', 'config', 'database', 'redis', 'health', 'openapi'],
  ['audit'],
  ['auth'],
  ['tenants'],
  ['admin-auth'],
  ['admin', 'keys', 'usage', 'indexes', 'console', 'bootstrap', 'cli'],
  ['proxy'],
];
const features = gatewayLevels[5];
/** The gateway folders a folder must not import. */
function gatewayForbidden(folder) {
  const level = gatewayLevels.findIndex((folders) => folders.includes(folder));
  const above = gatewayLevels.slice(level + 1).flat();
  if (folder === 'proxy') return features.filter((f) => f !== 'indexes' && f !== 'usage');
  if (level === 5) return [...above, ...features.filter((f) => f !== folder)];
  return above;
}
const gatewayZones = gatewayLevels.flat().flatMap((folder) => {
  const forbidden = gatewayForbidden(folder);
  if (forbidden.length === 0) return [];
  return [{
    target: folder === 'openapi' ? [`${gateway}/openapi/!(openapi).ts`] : `${gateway}/${folder}`,
    from: forbidden.map((f) => `${gateway}/${f}`),
    message: `${folder}/ may import only its own and lower layers (apps/gateway/README.md, "Layering"): move what both need down.`,
  }];
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**', '**/dist/**', '**/.turbo/**', '.tools/**', '.data/**', '.reports/**', 'coverage/**',
      'apps/gateway/src/generated/**', 'apps/console/src/api/schema.d.ts', 'bench/results/**', 'bench/profiles/**',
      'e2e/python/**',
    ],
  },
  {
    files: ['**/*.{ts,tsx,mts,js,mjs}'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX, 'unused-imports': unusedImports },
    settings: {
      // How import-x reads the files an import leads to (needed to follow cycles through .ts files).
      'import-x/extensions': ['.ts', '.tsx', '.mts', '.js', '.mjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx', '.mts'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['packages/*/tsconfig.json', 'apps/*/tsconfig.json', 'e2e/tsconfig.json', 'reliability/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      // typescript-eslint's no-unused-vars, wrapped so that `--fix` deletes unused imports (other unused
      // variables are reported, not fixed).
      'unused-imports/no-unused-imports': 'error',
      'unused-imports/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.{ts,tsx,mts}'],
    languageOptions: {
      // Nest injects by the constructor parameter types that decorator metadata names at run time, so a class
      // used only there must stay a value import; with these two set, consistent-type-imports knows it.
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['packages/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: apps, patterns: appPatterns }],
    },
  },
  {
    files: ['packages/engine/**'],
    // native/build.ts compiles the usearch binding at build time: a build tool, not the library.
    ignores: ['packages/engine/**/*.spec.ts', 'packages/engine/native/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [...apps, ...httpAndDisk], patterns: [...appPatterns, ...httpAndDiskPatterns] }],
    },
  },
  {
    files: ['apps/vector-store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...tenancy, { name: '@conifer/gateway', message: 'The vector store never imports the gateway.' }] },
      ],
    },
  },
  {
    files: ['apps/**/*.{ts,tsx,mts,js,mjs}'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            // The store's layers point one way: api → documents/storage → engine (DESIGN.md §5).
            {
              target: './apps/vector-store/src/storage',
              from: './apps/vector-store/src/api',
              message: 'storage/ does not import api/: dependencies point api → storage → engine.',
            },
            { target: './apps/vector-store/src', from: './apps/gateway', message: 'The vector store never imports the gateway.' },
            { target: './apps/gateway/src', from: './apps/vector-store', message: 'The gateway reaches the store over HTTP (@conifer/store-client).' },
            ...gatewayZones,
          ],
        },
      ],
    },
  },
);

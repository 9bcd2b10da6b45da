// ESLint for the whole tree: typescript-eslint's recommended rules without type information (a
// type-aware run would take minutes on two cores; `tsc` already checks the types), React's hook
// rules for the web client, and the import boundaries of docs/architecture.md ("Who may import
// what"). Formatting is Prettier's job: eslint-config-prettier comes last and turns off every rule
// that would argue with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Restricted-import patterns, one per boundary. In a flat config a later `no-restricted-imports`
// replaces an earlier one for the same file instead of adding to it, so each folder below lists
// every pattern that applies to it.
const trpcOutsideRouters = {
  group: ['@trpc/server', '@trpc/server/*'],
  message:
    "Only a router speaks tRPC: throw an AppError from server/errors.ts (the adapter maps it to a TRPCError) and keep tRPC's types in router.ts.",
};
const transportFromFeatures = {
  group: ['**/transport', '**/transport/*'],
  message:
    'A feature never reaches into the WebSocket adapter: declare the stream through server/realtime/ and let the adapter do the hand-over.',
};
const featureFromInfrastructure = {
  group: ['**/modules', '**/modules/*', '**/modules/*/**'],
  message:
    'cluster/ and realtime/ serve every feature and know none: move feature code under server/modules/<feature>/ and pass what it needs in (a callback, an interface, a topic name).',
};
const transportFromRealtime = {
  group: ['**/transport', '**/transport/*'],
  message:
    'transport/ imports realtime/, so this would be an import cycle: keep the shared piece in server/realtime/ and let transport/ import it.',
};

export default defineConfig(
  {
    ignores: ['client/dist/', 'drizzle/', 'patches/', '.data/', '.test-data/', 'test-results/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // The code's way to say "deliberately unused": a leading underscore, or the names dropped
      // from a rest copy (`const { secret: _s, ...rest } = row`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['client/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ['server/modules/**/*.ts'],
    ignores: ['server/modules/*/router.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [trpcOutsideRouters, transportFromFeatures] }] },
  },
  {
    files: ['server/modules/*/router.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [transportFromFeatures] }] },
  },
  {
    files: ['server/cluster/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [featureFromInfrastructure] }] },
  },
  {
    files: ['server/realtime/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [featureFromInfrastructure, transportFromRealtime] }] },
  },
  {
    // tRPC's own WebSocket tests, ported as they are written upstream (loosely typed fixtures), so a
    // newer suite can be compared line by line.
    files: ['tests/conformance/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-empty-pattern': 'off' },
  },
  prettier,
);

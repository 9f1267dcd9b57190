// Flat config: typescript-eslint's recommended rules over every TypeScript source, and the project's stricter settings
// over its own code and every function folder without lint settings of its own.
//
// A folder under functions/ with lint settings of its own is governed by them (README, "Adding a function"):
// - a flat config (eslint.config.js / .mjs / .cjs): ESLint 10 lints every file with the config nearest to it, so that
//   config alone applies to its folder and this one does not;
// - a legacy .eslintrc* (what `sam init` writes; ESLint 10 cannot load it, nor the prettier plugin it names) gets the
//   baseline it extends, ESLint's and typescript-eslint's recommended rules, over the code it ships: its tests belong
//   to its own runner (jest), which this project neither installs nor runs, so they are not linted, as they are not
//   type-checked. Its .js files are CommonJS unless its package.json says "type": "module", as Node reads them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The project root: this file's folder, wherever ESLint runs from. */
const root = import.meta.dirname;
const LEGACY_CONFIGS = ['.eslintrc', '.eslintrc.js', '.eslintrc.cjs', '.eslintrc.json', '.eslintrc.yaml', '.eslintrc.yml'];
const SKIPPED = new Set(['node_modules', 'dist', '.aws-sam', 'coverage', 'cdk.out']);
/** What a jest project (sam-init's included) treats as tests. */
const TEST_PATTERNS = ['**/tests/**', '**/__tests__/**', '**/*.test.*', '**/*.spec.*'];

/** The topmost folders under functions/ with a legacy .eslintrc*, not below a flat config of their own. */
function legacyLintFolders(dir = 'functions') {
  if (!existsSync(join(root, dir))) return [];
  const files = readdirSync(join(root, dir), { withFileTypes: true });
  const has = (name) => files.some((e) => e.isFile() && e.name === name);
  if (dir !== 'functions' && ['eslint.config.js', 'eslint.config.mjs', 'eslint.config.cjs'].some(has)) return [];
  if (dir !== 'functions' && LEGACY_CONFIGS.some(has)) return [dir];
  return files.filter((e) => e.isDirectory() && !SKIPPED.has(e.name)).flatMap((e) => legacyLintFolders(join(dir, e.name)));
}

/** Whether the folder's package.json makes its .js files ES modules. */
const isModuleFolder = (folder) => existsSync(join(root, folder, 'package.json')) && JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')).type === 'module';
const legacy = legacyLintFolders();

export default tseslint.config(
  // test/fixtures holds other projects' files as they are (a sam-init folder, deliberately loose code): test inputs.
  {
    ignores: ['node_modules/**', 'dist/**', 'cdk.out/**', 'reports/**', 'coverage/**', '.moto/**', '.lrp/**', 'cli/dist/**', 'test/fixtures/**', ...legacy.flatMap((folder) => TEST_PATTERNS.map((p) => `${folder}/${p}`))],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // typescript-eslint infers the project root from each config that uses it; a function's own config is a second one.
  { languageOptions: { parserOptions: { tsconfigRootDir: root } } },
  {
    // Plain JavaScript entry points run on Node.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...legacy
    .filter((folder) => !isModuleFolder(folder))
    .map((folder) => ({
      files: [`${folder}/**/*.js`, `${folder}/**/*.cjs`],
      languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', exports: 'writable', require: 'readonly', __dirname: 'readonly', __filename: 'readonly' } },
    })),
  {
    // The project's stricter settings: its own code and functions without settings of their own.
    files: ['**/*.ts'],
    ignores: legacy.map((folder) => `${folder}/**`),
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);

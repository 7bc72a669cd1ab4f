import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Type-aware rules for every TypeScript file of the workspace (typescript-eslint's
 * `recommendedTypeChecked`), with the type information of the package each file belongs to.
 * Formatting is Prettier's business, not the linter's.
 */
export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.data/**',
      '**/.turbo/**',
      'apps/lead-api/test/third-party/**',
      'bench/.ab/**',
      'bench/.out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true },
    },
    rules: {
      // `_`-prefixed parameters and variables are deliberately unused (a handler's fixed signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read HTTP answers as untyped JSON (`body: any`) and assert their shape; the OpenAPI
    // validator checks every REST answer against its schema first. The service's code gets no
    // such allowance.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Migrations keep the shape MikroORM's generator writes (`async up()` that only adds SQL).
    files: ['packages/db/src/migrations/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Scripts that run in the browser (the SDK's script-tag build and its test pages).
    files: ['packages/sdk/test/**/*.html', 'packages/sdk/src/website*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);

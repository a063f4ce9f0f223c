// Lint rules that keep the layout honest: services import only libs, libs never import services,
// and nobody reaches into another package's files.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const crossPackage = [
  { group: ['**/services/**', '../../services/*'], message: 'services are deployables: never import one' },
  {
    group: ['@acefleet/*/src/**', '**/libs/*/src/**'],
    message: 'import a lib through its entry (@acefleet/<lib>)',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.nx/**',
      '.run/**',
      'eslint.config.js',
      'ava.config.js',
      'services/stats/public/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // fastify handlers are async by contract, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'no-restricted-imports': ['error', { patterns: crossPackage }],
      // A package says what it offers: each index names its exports.
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'name the exports (no export *): STYLE.md 15' },
      ],
    },
  },
  // Plain JavaScript (the CLI's bin launcher) is outside the TypeScript project: lint it without types.
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/test/**', 'tests/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The configuration reference is rendered from every service's schema.
    files: ['scripts/config-reference.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);

// `npm run lint`: typescript-eslint's strict, type-checked rules over src/, test/, scripts/ and
// bench/. Each departure from the preset below says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.mutate/**',
      '.stella-demo/**',
      'bin/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tsconfig has noUncheckedIndexedAccess: every index read is `T | undefined`, and `!` after a
      // bounds check (or on a parser's fixed-arity result) is how the code says "checked above".
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans in messages are the point of most messages; objects still are not.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowRegExp: true },
      ],
      // `(x) => void thing()` one-liners in callbacks read fine.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Parsers here match control characters on purpose (to refuse them); the rule is for accidents.
      'no-control-regex': 'off',
      // A `let` read by a callback before its one assignment (a server built before its handler) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      // Tests and scripts take parsed JSON fixtures (bundles, trusted roots, Rekor answers) apart
      // field by field to build hostile inputs; they are `any` on purpose there, and assertions
      // on them fail loudly when a field is not what the test expects.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests check at run time what the types already promise (that is what a test is for).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `t.throws(...) as StellaError` says what the test expects to have been thrown.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // ava implementations and stand-in fetch/token callbacks are async by contract.
      '@typescript-eslint/require-await': 'off',
      // Methods are handed to t.throws / t.notThrows as values on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Loopback stand-in servers take async request handlers; a rejection fails the test.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
);

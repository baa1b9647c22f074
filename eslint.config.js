import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.countersign/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // protocol/ runs in the browser too: Web APIs only, and nothing from the other parts.
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'protocol/ uses Web APIs only.' },
            {
              group: ['**/server/**', '**/plugin/**', '**/pwa/**'],
              message: 'protocol/ depends on nothing else.',
            },
          ],
        },
      ],
    },
  },
  {
    // Layering: the server, the plugin and the PWA import protocol/ and not each other.
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/plugin/**', '**/pwa/**'],
              message: 'server/ imports protocol/, not the plugin or the PWA.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['pwa/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/plugin/**'],
              message: 'the PWA imports protocol/, not the server or the plugin.',
            },
          ],
        },
      ],
    },
  },
  {
    // The plugin embeds the server in two places only: its settings and its connection.
    files: ['plugin/**/*.ts'],
    ignores: ['plugin/settings.ts', 'plugin/link/connect.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/pwa/**'],
              message:
                'the plugin imports protocol/, not the server (it embeds it only in settings.ts and link/connect.ts) or the PWA.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/**
 * The floors of src/, top to bottom (CONTRIBUTING.md). A file may import its own floor and any
 * floor below it; a lower floor that must tell a higher one something takes a callback. `above`
 * names the folders and root modules of the floors above, which that floor must not import.
 */
const FLOORS = [
  { floor: 'http', files: ['src/http/**'], above: ['server', 'index'] },
  { floor: 'sessions', files: ['src/sessions/**'], above: ['server', 'index', 'http'] },
  { floor: 'store', files: ['src/store/**'], above: ['server', 'index', 'http', 'sessions'] },
  { floor: 'metrics', files: ['src/metrics.ts'], above: ['server', 'index', 'http', 'sessions', 'store'] },
  {
    floor: 'upstreams',
    files: ['src/upstreams/**'],
    above: ['server', 'index', 'http', 'sessions', 'store', 'metrics'],
  },
  {
    floor: 'errors and logger',
    files: ['src/errors.ts', 'src/logger.ts', 'src/node-version.ts'],
    above: ['server', 'index', 'http', 'sessions', 'store', 'metrics', 'upstreams'],
  },
];
/** Stand apart: they run in a browser or as a fake upstream, and import nothing of the server's. */
const APART = ['client', 'simulator'];

/** A relative import of `name` (a folder of src/ or a module at its root), from any depth of src/. */
const reaching = (names) => `^(\\./|(\\.\\./)+)(${names.join('|')})(/|$)`;

const floorZones = FLOORS.map(({ floor, files, above }) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: reaching([...above, ...APART]),
            message: `${floor} is a lower floor: it must not import a floor above it, nor client/ or simulator/ (CONTRIBUTING.md, "The floors").`,
          },
        ],
      },
    ],
  },
}));

const apartMessage = 'client/ and simulator/ import nothing of the server’s (CONTRIBUTING.md, "The floors").';

module.exports = tseslint.config(
  { ignores: ['node_modules/', '**/dist/', 'coverage/', '.tools/', 'test-output/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...floorZones,
  {
    files: ['src/config/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./',
              message: 'config/ is the ground floor: it imports nothing outside config/ (CONTRIBUTING.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/simulator/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        // Its entry point checks the Node version as the broker's does.
        { patterns: [{ regex: '^(\\.\\./)+(?!node-version$)', message: apartMessage }] },
      ],
    },
  },
  {
    // Its own package: nothing outside packages/client/src may be imported, not even a type.
    files: ['packages/client/src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./', message: apartMessage }] }],
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

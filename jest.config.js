/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  // jose is ESM-only; Node 22 can require() it, Jest's module loader cannot, so Jest transpiles it.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  testTimeout: 20000,
  maxWorkers: 2,
};

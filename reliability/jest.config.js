import { jestConfig } from '../jest.base.js';

export default jestConfig(import.meta.dirname, {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testMatch: ['<rootDir>/test/**/*.reliability-spec.ts'],
  // Long runs under load, outages and restarts: generous per-test budget (the soak raises it further).
  testTimeout: 900_000,
  // Whole systems (processes, ports, databases, a private redis-server): one at a time on a 2-core machine.
  maxWorkers: 1,
});

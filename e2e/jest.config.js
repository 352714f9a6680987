import { jestConfig } from '../jest.base.js';

export default jestConfig(import.meta.dirname, {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120_000,
  // The suites start whole systems (processes, ports, databases): one at a time on a 2-core machine.
  maxWorkers: 1,
});

import { jestConfig } from '../../jest.base.js';

export default jestConfig(import.meta.dirname, {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 150_000,
  // One browser and one whole system at a time on a 2-core machine.
  maxWorkers: 1,
});

export { globalTeardown as default } from '@conifer/test-utils';

export { globalSetup as default } from '@conifer/test-utils';

export { default } from '@lead/eslint-config';

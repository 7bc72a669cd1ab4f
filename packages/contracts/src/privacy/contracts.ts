import { retentionContract } from './retention.js';

export const privacyContracts = {
  retention: retentionContract,
};

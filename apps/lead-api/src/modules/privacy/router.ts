import { router } from '../../trpc.js';
import { erase } from './erase.js';
import { exportData } from './export.js';
import { retention } from './retention.js';

export const privacyRouter = router({ export: exportData, erase, retention });

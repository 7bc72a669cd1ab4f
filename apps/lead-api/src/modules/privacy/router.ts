import { router } from '../../trpc.js';
import { retention } from './retention.js';

export const privacyRouter = router({ retention });

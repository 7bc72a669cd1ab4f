import { router } from '../../trpc.js';
import { list } from './list.js';
import { retry } from './retry.js';
import { stats } from './stats.js';

export const eventsRouter = router({ list, stats, retry });

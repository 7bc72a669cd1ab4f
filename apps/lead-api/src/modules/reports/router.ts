import { router } from '../../trpc.js';
import { pipeline } from './pipeline.js';
import { sources } from './sources.js';

export const reportsRouter = router({ pipeline, sources });

import { router } from '../../trpc.js';
import { addActivity } from './add-activity.js';
import { assign } from './assign.js';
import { create } from './create.js';
import { get } from './get.js';
import { list } from './list.js';
import { updateStatus } from './update-status.js';

export const leadsRouter = router({ create, list, get, updateStatus, assign, addActivity });

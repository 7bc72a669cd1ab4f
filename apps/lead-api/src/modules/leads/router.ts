import { router } from '../../trpc.js';
import { addActivity } from './add-activity.js';
import { assign } from './assign.js';
import { create } from './create.js';
import { get } from './get.js';
import { list } from './list.js';
import { merge } from './merge.js';
import { update } from './update.js';
import { updateStatus } from './update-status.js';

export const leadsRouter = router({ create, list, get, update, updateStatus, assign, addActivity, merge });

import * as z from 'zod';
import { TabIdSchema } from './ids.js';

/**
 * The open tabs a task holds, as stored in KV bucket `tab-slots` under `{org}.{task}`: the count the
 * `TABMESH_MAX_TABS_PER_TASK` bound is checked against. A set of ids rather than a number, so a
 * repeated create or close changes nothing, and a slot whose tab is gone can be found and freed.
 * Written with compare-and-set only; bounded by the limit itself (at most `max` ids).
 */
export const TabSlotsSchema = z.object({
  v: z.literal(1),
  tabs: z.array(TabIdSchema),
});
export type TabSlots = z.infer<typeof TabSlotsSchema>;

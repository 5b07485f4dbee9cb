import { OrgIdSchema, TabIdSchema, TaskIdSchema } from '@tabmesh/contracts';
import { z } from 'zod';

export const TaskParamsSchema = z.object({ org: OrgIdSchema, task: TaskIdSchema });
export const TabParamsSchema = TaskParamsSchema.extend({ tab: TabIdSchema });

export const TaskPath = '/v1/orgs/:org/tasks/:task';
export const TabsPath = `${TaskPath}/tabs`;
export const TabPath = `${TabsPath}/:tab`;

export * from './entities/lead.js';
export * from './entities/lead-activity.js';
export * from './entities/lead-count.js';
export * from './errors.js';
export * from './migrate.js';
export * from './orm.js';
export * from './repositories/leads.js';
export { MikroORM, RequestContext, type EntityManager } from '@mikro-orm/postgresql';

import type { TestProject } from 'vitest/node';
import { createOrm, migrate } from '@lead/db';
import { createDatabase, databaseUrl, dropDatabase } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/** Migrates one template database; each test file clones it (fast) into a database of its own. */
export default async function setup(project: TestProject) {
  const template = await createDatabase();
  const clientUrl = databaseUrl(template);
  const orm = await createOrm({ clientUrl });
  try {
    await migrate(orm, { clientUrl });
  } finally {
    await orm.close();
  }
  project.provide('templateDatabase', template);
  return async () => dropDatabase(template);
}

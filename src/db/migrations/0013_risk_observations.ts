import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Risk-based alerting (issue 12): every finding of a signal rule is kept as an observation of the
 * entity it concerns, with the points it added and the entity's risk after it, whether or not it
 * led to an alert, so that an investigation sees what stayed below the alert level.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('risk_observations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text')
    .addColumn('organisation_path', 'text')
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('weight', 'real', (c) => c.notNull())
    .addColumn('risk_after', 'real', (c) => c.notNull())
    /** JSON: the factors that shaped the weight (role, fresh account, prevalence among peers). */
    .addColumn('factors', 'text', (c) => c.notNull())
    /** JSON array of event ids. */
    .addColumn('evidence', 'text', (c) => c.notNull())
    /** The alert it contributed to, when the risk crossed the threshold. */
    .addColumn('alert_id', 'text')
    .addColumn('observed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('risk_observations_entity')
    .on('risk_observations')
    .columns(['entity_id', 'observed_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('risk_observations').execute();
}

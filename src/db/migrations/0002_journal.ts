import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

// SHA-256 of the empty string: the root hash of the empty tree (RFC 6962).
const EMPTY_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const bytes = postgres ? 'bytea' : 'blob';
  const bigint = postgres ? 'bigint' : 'integer';

  // The tree in the C2SP tlog-tiles layout: one row per tile (rewritten while partial).
  await db.schema
    .createTable('journal_tiles')
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('idx', bigint, (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('hashes', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('journal_tiles_pk', ['level', 'idx'])
    .execute();

  // One row: the integrated tree size, its root, its right frontier and the last signed checkpoint.
  await db.schema
    .createTable('journal_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('tree_size', bigint, (c) => c.notNull())
    .addColumn('root_hash', bytes, (c) => c.notNull())
    .addColumn('frontier', bytes, (c) => c.notNull())
    .addColumn('checkpoint', 'text')
    .addColumn('updated_at', 'text')
    .execute();
  const emptyRoot = postgres ? sql`decode(${EMPTY_ROOT_HEX}, 'hex')` : sql`x'${sql.raw(EMPTY_ROOT_HEX)}'`;
  const emptyBytes = postgres ? sql`'\\x'::bytea` : sql`x''`;
  await sql`insert into journal_state (id, tree_size, root_hash, frontier) values (1, 0, ${emptyRoot}, ${emptyBytes})`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('journal_state').execute();
  await db.schema.dropTable('journal_tiles').execute();
}

import type { OrganisationTable } from '../../db/schema.js';
import type { IdGenerator } from '../../shared/ids.js';
import { ORGANISATION_KINDS } from '../identity/organisation.service.js';
import { normaliseSiret } from '../identity/siret.js';
import { calendarDate, LineRejected, oneOf, requiredText, text, uuid } from './field.reader.js';
import { insertSlices, type Importer } from './importer.js';

const COLUMNS = 11;

interface Known {
  readonly path: string;
  readonly depth: number;
  readonly status: string;
}

/**
 * Organisations from a file: `name` and `kind` required; `id` (to let later lines name it),
 * `siret`, `parentId` or `parentSiret`, `contractEndDate` optional. A parent must exist already or
 * come on an earlier line; an import only adds organisations (an id already stored is refused), so
 * a new node hangs under an existing one and no cycle can form — naming itself as parent is refused.
 * Only the root is an operator, and there is one root.
 */
export function createOrganisationImporter(ids: IdGenerator): Importer<OrganisationTable> {
  const known = new Map<string, Known>();
  const bySiret = new Map<string, string>();
  let hasRoot = false;

  return {
    kind: 'organisations',
    eventKind: 'organisation.imported',
    shape: {
      allowed: ['id', 'name', 'kind', 'siret', 'parentId', 'parentSiret', 'contractEndDate'],
      required: ['name', 'kind'],
    },

    async prepare(db) {
      const rows = await db
        .selectFrom('organisations')
        .select(['id', 'path', 'depth', 'status', 'siret', 'parent_id'])
        .execute();
      for (const o of rows) {
        known.set(o.id, { path: o.path, depth: o.depth, status: o.status });
        if (o.siret !== null) bySiret.set(o.siret, o.id);
        if (o.parent_id === null) hasRoot = true;
      }
    },

    validate(fields, now) {
      const id = uuid(fields, 'id') ?? ids.next();
      if (known.has(id))
        throw new LineRejected('ORGANISATION_EXISTS', 'id: an organisation already has this id');
      const name = requiredText(fields, 'name', { max: 200 });
      const kind = oneOf(fields, 'kind', ORGANISATION_KINDS);
      const siret = siretOf(text(fields, 'siret', { max: 20 }), 'siret');
      if (siret !== null && bySiret.has(siret))
        throw new LineRejected('SIRET_TAKEN', 'siret: another organisation has this SIRET');
      const parentId = parentOf(fields, bySiret);
      if (parentId === id)
        throw new LineRejected('ORGANISATION_CYCLE', 'an organisation cannot be its own parent');
      const contractEndDate = calendarDate(fields, 'contractEndDate') ?? null;
      let path: string;
      let depth: number;
      if (parentId === undefined) {
        if (kind !== 'operator' || hasRoot)
          throw new LineRejected('PARENT_REQUIRED', 'parentId or parentSiret is required below the root');
        path = `/${id}/`;
        depth = 0;
        hasRoot = true;
      } else {
        if (kind === 'operator') throw new LineRejected('INVALID_KIND', 'kind: only the root is an operator');
        const parent = known.get(parentId);
        if (parent === undefined)
          throw new LineRejected('PARENT_NOT_FOUND', 'the parent does not exist (parents must come first)');
        if (parent.status !== 'active')
          throw new LineRejected('PARENT_NOT_ACTIVE', 'the parent is not active');
        path = `${parent.path}${id}/`;
        depth = parent.depth + 1;
      }
      known.set(id, { path, depth, status: 'active' });
      if (siret !== null) bySiret.set(siret, id);
      return {
        id,
        parent_id: parentId ?? null,
        path,
        depth,
        name,
        kind,
        siret,
        status: 'active',
        contract_end_date: contractEndDate,
        created_at: now,
        updated_at: now,
      };
    },

    async write(trx, rows) {
      for (const slice of insertSlices(rows, COLUMNS))
        await trx.insertInto('organisations').values(slice).execute();
      return { insertedIds: rows.map((r) => r.row.id), unchanged: 0 };
    },

    committed() {},
    discarded(rows) {
      for (const { row } of rows) {
        known.delete(row.id);
        if (row.siret !== null) bySiret.delete(row.siret);
        if (row.parent_id === null) hasRoot = false;
      }
    },
  };
}

function siretOf(value: string | undefined, field: string): string | null {
  if (value === undefined) return null;
  const siret = normaliseSiret(value);
  if (siret === undefined) throw new LineRejected('INVALID_SIRET', `${field}: not a valid SIRET`);
  return siret;
}

function parentOf(
  fields: Readonly<Record<string, unknown>>,
  bySiret: Map<string, string>,
): string | undefined {
  const byId = uuid(fields, 'parentId');
  const siret = siretOf(text(fields, 'parentSiret', { max: 20 }), 'parentSiret');
  if (siret === null) return byId;
  const found = bySiret.get(siret);
  if (found === undefined)
    throw new LineRejected('PARENT_NOT_FOUND', 'parentSiret: no organisation has this SIRET');
  if (byId !== undefined && byId !== found)
    throw new LineRejected('AMBIGUOUS_PARENT', 'parentId and parentSiret name different organisations');
  return found;
}

import type { Actor } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { asAdminActor, can, cursorId, scopeRoots, type AdminActor } from './actor.js';
import {
  pageLimit,
  type CommandMeta,
  type IdentityDeps,
  type PageRequest,
  type PageResult,
} from './identity.deps.js';
import { identityErrors as E, isUniqueViolation } from './identity.errors.js';
import { identityEvent, reasonDigest, refusalOf } from './identity.events.js';
import { page } from './identity.paging.js';
import * as repo from './organisation.repository.js';
import { normaliseSiret } from './siret.js';

export const ORGANISATION_KINDS = [
  'operator',
  'network',
  'mission_locale',
  'cap_emploi',
  'training_organisation',
  'agency',
  'other',
] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];
export type OrganisationStatus = 'active' | 'suspended' | 'offboarded';

const TRANSITIONS: Record<OrganisationStatus, readonly OrganisationStatus[]> = {
  active: ['suspended', 'offboarded'],
  suspended: ['active', 'offboarded'],
  offboarded: [],
};

export interface Organisation {
  readonly id: string;
  readonly parentId: string | null;
  readonly depth: number;
  readonly name: string;
  readonly kind: string;
  readonly siret: string | null;
  readonly status: string;
  readonly contractEndDate: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function presentOrganisation(row: repo.OrganisationRow): Organisation {
  return {
    id: row.id,
    parentId: row.parent_id,
    depth: row.depth,
    name: row.name,
    kind: row.kind,
    siret: row.siret,
    status: row.status,
    contractEndDate: row.contract_end_date,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface CreateOrganisationInput {
  readonly parentId: string;
  readonly name: string;
  readonly kind: OrganisationKind;
  readonly siret?: string;
  readonly contractEndDate?: string;
}

export interface UpdateOrganisationInput {
  readonly name?: string;
  readonly kind?: OrganisationKind;
  readonly siret?: string | null;
  readonly contractEndDate?: string | null;
  readonly parentId?: string;
}

function siretOf(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const siret = normaliseSiret(raw);
  if (!siret) throw E.invalidSiret();
  return siret;
}

/** An organisation the actor may see, or 404: another tenant's organisation does not exist for it. */
async function visible(
  deps: IdentityDeps,
  db: Parameters<typeof repo.findOrganisation>[0],
  actor: AdminActor,
  id: string,
): Promise<repo.OrganisationRow> {
  const row = await repo.findOrganisation(db, id);
  if (!row || !can(actor, 'organisation.read', row.path)) throw E.organisationNotFound();
  return row;
}

function requireManage(actor: AdminActor, path: string): void {
  if (!can(actor, 'organisation.manage', path)) throw E.permissionDenied('organisation.manage');
}

/** Organisations: the operator → networks → structures tree, scoped by materialised paths. */
export function createOrganisationService(deps: IdentityDeps) {
  async function create(
    actorIn: Actor,
    input: CreateOrganisationInput,
    meta?: CommandMeta,
  ): Promise<Organisation> {
    const actor = asAdminActor(actorIn);
    const id = deps.ids.next();
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        await repo.lockTree(trx, deps.dialect);
        const parent = await visible(deps, trx, actor, input.parentId);
        requireManage(actor, parent.path);
        if (input.kind === 'operator') throw E.organisationKind('only the root is an operator');
        if (parent.status !== 'active') throw E.parentNotActive();
        const siret = siretOf(input.siret) ?? null;
        if (siret && (await repo.findBySiret(trx, siret))) throw E.siretTaken();
        const at = now.toISOString();
        const row: repo.OrganisationRow = {
          id,
          parent_id: parent.id,
          path: `${parent.path}${id}/`,
          depth: parent.depth + 1,
          name: input.name,
          kind: input.kind,
          siret,
          status: 'active',
          contract_end_date: input.contractEndDate ?? null,
          created_at: at,
          updated_at: at,
        };
        await insertOrFail(trx, row);
        ctx.emit(
          identityEvent('organisation.created', actor, {
            target: { type: 'organisation', id },
            organisationId: id,
            data: { parentId: parent.id, kind: input.kind },
            meta,
          }),
        );
        return presentOrganisation(row);
      },
      refusalOf('organisation.created', actor, () => ({ organisationId: input.parentId, meta })),
    );
  }

  async function insertOrFail(trx: Parameters<typeof repo.insertOrganisation>[0], row: repo.OrganisationRow) {
    try {
      await repo.insertOrganisation(trx, row);
    } catch (error) {
      if (isUniqueViolation(error)) throw E.siretTaken();
      throw error;
    }
  }

  async function get(actorIn: Actor, id: string): Promise<Organisation> {
    return presentOrganisation(await visible(deps, deps.db, asAdminActor(actorIn), id));
  }

  async function list(
    actorIn: Actor,
    filter: { parentId?: string; kind?: string; status?: string; subtreeOf?: string } & PageRequest,
  ): Promise<PageResult<Organisation>> {
    const actor = asAdminActor(actorIn);
    const limit = pageLimit(filter.limit);
    let subtreeOf: string | undefined;
    if (filter.subtreeOf !== undefined)
      subtreeOf = (await visible(deps, deps.db, actor, filter.subtreeOf)).path;
    const afterId = cursorId(filter.cursor);
    const rows = await repo.listOrganisations(deps.db, deps.dialect, {
      roots: scopeRoots(actor, 'organisation.read'),
      ...(subtreeOf !== undefined ? { subtreeOf } : {}),
      ...(filter.parentId !== undefined ? { parentId: filter.parentId } : {}),
      ...(filter.kind !== undefined ? { kind: filter.kind } : {}),
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(afterId !== undefined ? { afterId } : {}),
      limit: limit + 1,
    });
    return page(rows.map(presentOrganisation), limit);
  }

  async function update(
    actorIn: Actor,
    id: string,
    input: UpdateOrganisationInput,
    meta?: CommandMeta,
  ): Promise<Organisation> {
    const actor = asAdminActor(actorIn);
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        if (input.parentId !== undefined) await repo.lockTree(trx, deps.dialect);
        const row = await visible(deps, trx, actor, id);
        requireManage(actor, row.path);
        const at = now.toISOString();
        if (input.kind !== undefined && (input.kind === 'operator') !== (row.parent_id === null))
          throw E.organisationKind('the root and only the root is an operator');
        const siret = siretOf(input.siret);
        if (siret && siret !== row.siret && (await repo.findBySiret(trx, siret))) throw E.siretTaken();
        const changed: string[] = [];
        if (input.parentId !== undefined && input.parentId !== row.parent_id) {
          if (row.parent_id === null) throw E.rootProtected();
          const parent = await visible(deps, trx, actor, input.parentId);
          requireManage(actor, parent.path);
          if (parent.path.startsWith(row.path)) throw E.organisationCycle();
          const newPath = `${parent.path}${row.id}/`;
          await repo.moveSubtree(trx, deps.dialect, {
            id: row.id,
            newParentId: parent.id,
            oldPath: row.path,
            newPath,
            depthDelta: parent.depth + 1 - row.depth,
            at,
          });
          changed.push('parentId');
        }
        const patch = {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.kind !== undefined ? { kind: input.kind } : {}),
          ...(siret !== undefined ? { siret } : {}),
          ...(input.contractEndDate !== undefined ? { contract_end_date: input.contractEndDate } : {}),
        };
        changed.push(...Object.keys(patch).map((k) => (k === 'contract_end_date' ? 'contractEndDate' : k)));
        try {
          await repo.updateOrganisation(trx, id, { ...patch, updated_at: at });
        } catch (error) {
          if (isUniqueViolation(error)) throw E.siretTaken();
          throw error;
        }
        ctx.emit(
          identityEvent('organisation.updated', actor, {
            target: { type: 'organisation', id },
            organisationId: id,
            data: { fields: changed.sort() },
            meta,
          }),
        );
        return presentOrganisation((await repo.findOrganisation(trx, id))!);
      },
      refusalOf('organisation.updated', actor, () => ({
        target: { type: 'organisation', id },
        organisationId: id,
        meta,
      })),
    );
  }

  async function setStatus(
    actorIn: Actor,
    id: string,
    to: OrganisationStatus,
    reason: string,
    meta?: CommandMeta,
  ): Promise<Organisation> {
    const actor = asAdminActor(actorIn);
    const kind = {
      active: 'organisation.reactivated',
      suspended: 'organisation.suspended',
      offboarded: 'organisation.offboarded',
    }[to];
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const row = await visible(deps, trx, actor, id);
        requireManage(actor, row.path);
        if (row.parent_id === null) throw E.rootProtected();
        const from = row.status as OrganisationStatus;
        if (!TRANSITIONS[from]?.includes(to)) throw E.illegalTransition(from, to);
        await repo.updateOrganisation(trx, id, { status: to, updated_at: now.toISOString() });
        ctx.emit(
          identityEvent(kind, actor, {
            target: { type: 'organisation', id },
            organisationId: id,
            data: { from, to, reasonSha256: reasonDigest(reason) },
            meta,
          }),
        );
        return presentOrganisation({ ...row, status: to, updated_at: now.toISOString() });
      },
      refusalOf(kind, actor, () => ({ target: { type: 'organisation', id }, organisationId: id, meta })),
    );
  }

  return { create, get, list, update, setStatus };
}

export type OrganisationService = ReturnType<typeof createOrganisationService>;

import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';
import type { Organisation } from './DelegationScreen';

interface InventoryItem {
  readonly id: string;
  readonly accountId: string;
  readonly accountStatus: string;
  readonly roleId: string;
  readonly organisationId: string;
  readonly assignmentStatus: string;
  readonly grantedBy: string | null;
  readonly approvedBy: string | null;
  readonly lastSeenAt: string | null;
  readonly mfaStrength: string | null;
  readonly authentication: { passkeys: { count: number }; totp: boolean };
}

const STATUS_BADGE: Record<string, 'success' | 'warning' | 'error'> = {
  active: 'success',
  suspended: 'warning',
  offboarded: 'error',
};

export interface Control {
  readonly id: string;
  readonly kind: 'freeze' | 'step_up';
  readonly target: { type: string; id: string };
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: string;
}

/** The freezes in force (policy.read): an empty set when the reader may not see them. */
function useFrozen(): ReadonlySet<string> {
  const controls = useQuery({
    queryKey: ['access', 'controls'],
    queryFn: () => get<{ items: Control[] }>('/api/v1/access/controls'),
    retry: false,
  });
  return useMemo(
    () =>
      new Set(
        (controls.data?.items ?? [])
          .filter((c) => c.kind === 'freeze')
          .map((c) => `${c.target.type}:${c.target.id}`),
      ),
    [controls.data],
  );
}

/** One organisation and, nested, those under it: the tree as lists, readable without a chart. */
function Branch({
  node,
  children,
  when,
  frozen,
}: {
  node: Organisation;
  children: Map<string, Organisation[]>;
  when: (iso: string, d?: boolean) => string;
  frozen: ReadonlySet<string>;
}) {
  const { t } = useTranslation();
  const below = children.get(node.id) ?? [];
  return (
    <li data-organisation={node.id}>
      <strong>{node.name}</strong> <span className="fr-hint-text">({node.kind})</span>{' '}
      <Badge small severity={STATUS_BADGE[node.status] ?? 'warning'}>
        {t(`organisations.statuses.${node.status}`, { defaultValue: node.status })}
      </Badge>
      {frozen.has(`organisation:${node.id}`) ? (
        <>
          {' '}
          <Badge small severity="error">
            {t('organisations.frozen')}
          </Badge>
        </>
      ) : null}
      {node.contractEndDate ? (
        <span className="fr-hint-text">
          {' '}
          — {t('organisations.contractEnd', { date: when(node.contractEndDate, true) })}
        </span>
      ) : null}
      {below.length > 0 ? (
        <ul>
          {below.map((c) => (
            <Branch key={c.id} node={c} children={children} when={when} frozen={frozen} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function Tree() {
  const { t } = useTranslation();
  const when = useWhen();
  const frozen = useFrozen();
  const list = useQuery({
    queryKey: ['organisations', 'all'],
    queryFn: () => get<Page<Organisation>>('/api/v1/organisations?limit=500'),
  });
  const { roots, children } = useMemo(() => {
    const items = list.data?.items ?? [];
    const ids = new Set(items.map((o) => o.id));
    const children = new Map<string, Organisation[]>();
    const roots: Organisation[] = [];
    for (const o of items) {
      // The top of what the reader may see: its parent is outside the reader's scope.
      if (o.parentId === null || !ids.has(o.parentId)) roots.push(o);
      else children.set(o.parentId, [...(children.get(o.parentId) ?? []), o]);
    }
    return { roots, children };
  }, [list.data]);
  return (
    <section aria-labelledby="tree-title" className="fr-mb-4w">
      <h2 id="tree-title" className="fr-h4">
        {t('organisations.tree')}
      </h2>
      {list.isPending ? (
        <p>{t('common.loading')}</p>
      ) : list.error ? (
        isForbidden(list.error) ? (
          <p>{t('organisations.noTree')}</p>
        ) : (
          <ErrorNotice error={list.error} />
        )
      ) : (
        <>
          {list.data.nextCursor ? <p className="fr-hint-text">{t('organisations.truncated')}</p> : null}
          <ul id="organisation-tree">
            {roots.map((r) => (
              <Branch key={r.id} node={r} children={children} when={when} frozen={frozen} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Inventory() {
  const { t } = useTranslation();
  const when = useWhen();
  const list = useQuery({
    queryKey: ['inventory', 'privileged'],
    queryFn: () => get<Page<InventoryItem>>('/api/v1/inventory/privileged?limit=500'),
  });
  return (
    <section aria-labelledby="inventory-title">
      <h2 id="inventory-title" className="fr-h4">
        {t('organisations.inventory')}
      </h2>
      {list.isPending ? (
        <p>{t('common.loading')}</p>
      ) : list.error ? (
        isForbidden(list.error) ? (
          <p>{t('organisations.noInventory')}</p>
        ) : (
          <ErrorNotice error={list.error} />
        )
      ) : list.data.items.length === 0 ? (
        <p>{t('common.none')}</p>
      ) : (
        <div id="inventory">
          <Table
            fixed
            headers={[
              t('accounts.account'),
              t('accounts.role'),
              t('accounts.status'),
              t('organisations.grantedApproved'),
              t('organisations.lastSeen'),
              t('organisations.factors'),
            ]}
            data={list.data.items.map((i) => [
              <Link key="a" to={`accounts/${i.accountId}`} className="fr-link vigie-mono">
                {i.accountId}
              </Link>,
              i.roleId,
              `${t(`accounts.statuses.${i.accountStatus}`, { defaultValue: i.accountStatus })} / ${i.assignmentStatus}`,
              <span key="g" className="vigie-mono">
                {i.grantedBy ?? '—'} / {i.approvedBy ?? '—'}
              </span>,
              i.lastSeenAt ? when(i.lastSeenAt) : t('organisations.never'),
              t('organisations.factorSummary', {
                passkeys: i.authentication.passkeys.count,
                totp: i.authentication.totp ? t('organisations.yes') : t('organisations.no'),
                strength: i.mfaStrength ?? '—',
              }),
            ])}
          />
        </div>
      )}
    </section>
  );
}

/** The organisation tree with each partner's status and contract end, and the privileged-account inventory. */
export function OrganisationsScreen() {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('organisations.title')}</h1>
      <Tree />
      <Inventory />
    </>
  );
}

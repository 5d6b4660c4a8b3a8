import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get, type Account, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';
import { DisclosedRecords } from './AlertInvestigation';
import { LineageGraph, type LineageNode } from './LineageGraph';
import { RecentDecisions } from './RecentDecisions';
import { PasskeyList, SessionTable } from './SignInMethods';

interface Assignment {
  id: string;
  roleId: string;
  organisationId: string;
  status: string;
  grantedAt: string;
  expiresAt: string | null;
}

/** One account: its facts, its roles, and its lineage (whom it created and approved). */
export function AccountScreen({ id }: { id: string }) {
  const { t } = useTranslation();
  const when = useWhen();
  const account = useQuery({
    queryKey: ['account', id],
    queryFn: () => get<Account>(`/api/v1/accounts/${id}`),
  });
  const roles = useQuery({
    queryKey: ['account', id, 'roles'],
    queryFn: () => get<Page<Assignment>>(`/api/v1/roles/assignments?accountId=${id}&limit=100`),
  });
  const lineage = useQuery({
    queryKey: ['account', id, 'lineage'],
    queryFn: () => get<Page<LineageNode>>(`/api/v1/accounts/${id}/lineage?limit=200`),
  });
  if (account.isPending) return <p>{t('common.loading')}</p>;
  if (account.error) return <ErrorNotice error={account.error} />;
  const a = account.data;
  return (
    <>
      <p>
        <Link to="accounts" className="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          {t('accounts.back')}
        </Link>
      </p>
      <h1>{a.email}</h1>
      <dl className="fr-mb-3w">
        <dt>{t('accounts.status')}</dt>
        <dd id="account-status">
          {t(`accounts.statuses.${a.status}`)}
          {a.statusReason ? ` — ${a.statusReason}` : ''}
        </dd>
        <dt>{t('accounts.created')}</dt>
        <dd>{when(a.createdAt)}</dd>
        <dt>{t('accounts.createdBy')}</dt>
        <dd className="vigie-mono">
          {a.createdBy ? <Link to={`accounts/${a.createdBy}`}>{a.createdBy}</Link> : '—'}
        </dd>
        <dt>{t('accounts.approvedBy')}</dt>
        <dd className="vigie-mono">
          {a.approvedBy ? <Link to={`accounts/${a.approvedBy}`}>{a.approvedBy}</Link> : '—'}
        </dd>
      </dl>
      <section aria-labelledby="roles-title" className="fr-mb-4w">
        <h2 id="roles-title" className="fr-h4">
          {t('accounts.roles')}
        </h2>
        {roles.error ? <ErrorNotice error={roles.error} /> : null}
        {roles.data ? (
          roles.data.items.length ? (
            <Table
              headers={[
                t('accounts.role'),
                t('accounts.organisation'),
                t('accounts.status'),
                t('accounts.expires'),
              ]}
              data={roles.data.items.map((r) => [
                r.roleId,
                r.organisationId,
                r.status,
                r.expiresAt ? when(r.expiresAt) : '—',
              ])}
            />
          ) : (
            <p>{t('common.none')}</p>
          )
        ) : null}
      </section>
      <section aria-labelledby="lineage-title">
        <h2 id="lineage-title" className="fr-h4">
          {t('accounts.lineage')}
        </h2>
        {lineage.error ? <ErrorNotice error={lineage.error} /> : null}
        {lineage.data ? (
          lineage.data.items.length ? (
            <>
              <LineageGraph
                rootId={id}
                nodes={lineage.data.items}
                label={t('accounts.lineageLabel', { count: lineage.data.items.length })}
              />
              <Table
                id="lineage"
                headers={[
                  t('accounts.parent'),
                  t('accounts.relation'),
                  t('accounts.account'),
                  t('accounts.depth'),
                  t('accounts.status'),
                ]}
                data={lineage.data.items.map((n) => [
                  <span key="p" className="vigie-mono">
                    {n.parentId === id ? a.email : n.parentId}
                  </span>,
                  t(`accounts.relations.${n.relation}`),
                  <Link key="l" to={`accounts/${n.accountId}`} className="vigie-mono">
                    {n.accountId}
                  </Link>,
                  String(n.depth),
                  t(`accounts.statuses.${n.status}`),
                ])}
              />
            </>
          ) : (
            <p>{t('accounts.noLineage')}</p>
          )
        ) : null}
      </section>
      <section aria-labelledby="sign-in-title" className="fr-mt-4w">
        <h2 id="sign-in-title" className="fr-h4">
          {t('accounts.signInMethods')}
        </h2>
        <PasskeyList url={`/api/v1/accounts/${id}/passkeys`} />
        <SessionTable url={`/api/v1/accounts/${id}/sessions`} />
      </section>
      <RecentDecisions accountId={id} />
      <DisclosedRecords accountId={id} />
    </>
  );
}

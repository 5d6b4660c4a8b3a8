import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, send, type Account, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';

export interface Organisation {
  readonly id: string;
  readonly parentId: string | null;
  readonly depth: number;
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly contractEndDate: string | null;
}

interface Quota {
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
}

interface Quotas {
  readonly daily: Quota;
  readonly pending: Quota;
  readonly windowHours: number;
  readonly approverMinAgeDays: number;
}

function QuotaPanel() {
  const { t } = useTranslation();
  const quotas = useQuery({
    queryKey: ['delegation', 'quotas'],
    queryFn: () => get<Quotas>('/api/v1/accounts/me/delegation-quotas'),
  });
  if (quotas.isPending) return <p>{t('common.loading')}</p>;
  if (quotas.error) return <ErrorNotice error={quotas.error} />;
  const q = quotas.data;
  return (
    <section aria-labelledby="quota-title" className="fr-mb-4w">
      <h2 id="quota-title" className="fr-h4">
        {t('delegation.quotas')}
      </h2>
      <ul id="quotas">
        <li>{t('delegation.daily', { ...q.daily, hours: q.windowHours })}</li>
        <li>{t('delegation.pending', { ...q.pending })}</li>
      </ul>
      <p className="fr-hint-text">{t('delegation.quotaWhy', { days: q.approverMinAgeDays })}</p>
    </section>
  );
}

/**
 * Delegated administration for an account manager: its quotas, the form creating a colleague's
 * account in its structure (pending until someone else approves it: four-eyes), and the accounts it
 * created that still wait for that approval.
 */
export function DelegationScreen({ me }: { me: Account }) {
  const { t } = useTranslation();
  const when = useWhen();
  const client = useQueryClient();
  const [organisationId, setOrganisationId] = useState(me.organisationId);
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const organisations = useQuery({
    queryKey: ['organisations'],
    queryFn: () => get<Page<Organisation>>('/api/v1/organisations?limit=500&status=active'),
  });
  const pending = useQuery({
    queryKey: ['accounts', 'created-by', me.id],
    queryFn: () =>
      get<Page<Account>>(`/api/v1/accounts?createdBy=${me.id}&status=pending_approval&limit=100`),
  });
  const create = useMutation({
    mutationFn: () =>
      send<Account>('POST', '/api/v1/accounts', {
        organisationId,
        email: email.trim(),
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      }),
    onSuccess: () => {
      setEmail('');
      setDisplayName('');
      return client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (email.trim().length >= 3) create.mutate();
  };
  const choices: readonly Pick<Organisation, 'id' | 'name' | 'depth'>[] = organisations.data?.items.length
    ? organisations.data.items
    : [{ id: me.organisationId, name: me.organisationId, depth: 0 }];
  const top = Math.min(...choices.map((o) => o.depth));
  const orgName = (id: string) => organisations.data?.items.find((o) => o.id === id)?.name ?? id;

  return (
    <>
      <h1>{t('delegation.title')}</h1>
      <p>{t('accounts.fourEyes')}</p>
      <QuotaPanel />
      <section aria-labelledby="create-title" className="fr-mb-4w">
        <h2 id="create-title" className="fr-h4">
          {t('delegation.create')}
        </h2>
        <form onSubmit={submit} id="create-form">
          {organisations.error && !isForbidden(organisations.error) ? (
            <ErrorNotice error={organisations.error} />
          ) : null}
          <Select
            label={t('accounts.organisation')}
            nativeSelectProps={{
              id: 'new-organisation',
              value: organisationId,
              onChange: (e) => setOrganisationId(e.target.value),
            }}
          >
            {choices.map((o) => (
              <option key={o.id} value={o.id}>
                {`${'· '.repeat(Math.max(0, o.depth - top))}${o.name}`}
              </option>
            ))}
          </Select>
          <Input
            label={t('accounts.email')}
            nativeInputProps={{
              id: 'new-email',
              type: 'email',
              required: true,
              minLength: 3,
              maxLength: 320,
              autoComplete: 'off',
              value: email,
              onChange: (e) => setEmail(e.target.value),
            }}
          />
          <Input
            label={t('delegation.displayName')}
            nativeInputProps={{
              id: 'new-name',
              maxLength: 200,
              autoComplete: 'off',
              value: displayName,
              onChange: (e) => setDisplayName(e.target.value),
            }}
          />
          <Button type="submit" id="create-button" disabled={create.isPending || email.trim().length < 3}>
            {t('delegation.submit')}
          </Button>
        </form>
        <div aria-live="polite" id="create-result" className="fr-mt-2w">
          {create.isSuccess ? (
            <Notice
              severity="success"
              small
              description={
                <>
                  {t(
                    create.data.status === 'pending_approval'
                      ? 'delegation.createdPending'
                      : 'delegation.createdActive',
                    { email: create.data.email },
                  )}{' '}
                  <Link to={`accounts/${create.data.id}`} className="fr-link">
                    {t('delegation.see')}
                  </Link>
                </>
              }
            />
          ) : null}
          {create.error ? <ErrorNotice error={create.error} /> : null}
        </div>
      </section>
      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title" className="fr-h4">
          {t('delegation.waiting')}
        </h2>
        {pending.isPending ? (
          <p>{t('common.loading')}</p>
        ) : pending.error ? (
          <ErrorNotice error={pending.error} />
        ) : pending.data.items.length === 0 ? (
          <p>{t('common.none')}</p>
        ) : (
          <div id="waiting">
            <Table
              fixed
              headers={[t('accounts.email'), t('accounts.organisation'), t('accounts.created'), '']}
              data={pending.data.items.map((a) => [
                a.email,
                orgName(a.organisationId),
                when(a.createdAt),
                <Link key="l" to={`accounts/${a.id}`} className="fr-link">
                  {t('delegation.see')}
                  <span className="fr-sr-only"> {a.email}</span>
                </Link>,
              ])}
            />
          </div>
        )}
      </section>
    </>
  );
}

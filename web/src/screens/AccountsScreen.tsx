import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { Select } from '@codegouvfr/react-dsfr/Select';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, goStepUp, isStepUp, send, type Account, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';

const STATUSES = ['pending_approval', 'active', 'suspended', 'disabled'] as const;

/**
 * Accounts the signed-in person may see (the API filters by their scope), by status, searched by
 * part of the e-mail or by id; pending accounts carry the approval button (four-eyes, step-up).
 */
export function AccountsScreen() {
  const { t } = useTranslation();
  const when = useWhen();
  const client = useQueryClient();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('pending_approval');
  const [search, setSearch] = useState('');
  // Searched by the API (part of the e-mail, or an id) within the reader's scope, once typing pauses.
  const [q, setQ] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQ(search.trim()), 300);
    return () => clearTimeout(timer);
  }, [search]);
  const query = q.length >= 2 ? `&q=${encodeURIComponent(q)}` : '';
  const list = useQuery({
    queryKey: ['accounts', status, query],
    queryFn: () => get<Page<Account>>(`/api/v1/accounts?status=${status}&limit=100${query}`),
  });
  const approve = useMutation({
    mutationFn: (id: string) => send<Account>('POST', `/api/v1/accounts/${id}/approve`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['accounts'] }),
    onError: (error) => {
      if (isStepUp(error)) goStepUp(error);
    },
  });
  const items = list.data?.items ?? [];

  return (
    <>
      <h1>{t('accounts.title')}</h1>
      <div className="vigie-grid">
        <Select
          label={t('accounts.status')}
          nativeSelectProps={{
            id: 'status',
            value: status,
            onChange: (e) => setStatus(e.target.value as typeof status),
          }}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`accounts.statuses.${s}`)}
            </option>
          ))}
        </Select>
        <Input
          label={t('accounts.search')}
          nativeInputProps={{
            id: 'search',
            type: 'search',
            value: search,
            onChange: (e) => setSearch(e.target.value),
          }}
        />
      </div>
      {status === 'pending_approval' ? <p className="fr-hint-text">{t('accounts.fourEyes')}</p> : null}
      <div aria-live="polite" id="approve-result">
        {approve.isSuccess ? (
          <Notice
            severity="success"
            small
            description={t('accounts.approved', { email: approve.data.email })}
          />
        ) : null}
        {approve.error && !isStepUp(approve.error) ? <ErrorNotice error={approve.error} /> : null}
      </div>
      {list.error ? <ErrorNotice error={list.error} /> : null}
      {list.isPending ? <p>{t('common.loading')}</p> : null}
      {list.data ? (
        items.length === 0 ? (
          <p>{t('common.none')}</p>
        ) : (
          <Table
            id="accounts"
            headers={[t('accounts.email'), t('accounts.status'), t('accounts.created'), '']}
            data={items.map((a) => [
              <Link key="l" to={`accounts/${a.id}`} className="fr-link">
                {a.email}
              </Link>,
              t(`accounts.statuses.${a.status}`),
              when(a.createdAt),
              a.status === 'pending_approval' ? (
                <Button
                  key="b"
                  size="small"
                  data-approve={a.email}
                  disabled={approve.isPending}
                  onClick={() => approve.mutate(a.id)}
                >
                  {t('accounts.approve')}
                  <span className="fr-sr-only"> {a.email}</span>
                </Button>
              ) : (
                ''
              ),
            ])}
          />
        )
      ) : null}
    </>
  );
}

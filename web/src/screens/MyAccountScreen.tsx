import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get, send, type Account } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { DisclosedRecords } from './AlertInvestigation';

interface Session {
  id: string;
  current: boolean;
  authLevel: string;
  aal: string;
  browserFamily: string;
  networkPrefix: string;
  createdAt: string;
  lastSeenAt: string;
}

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The agent's own account: passkeys, live sessions, sign out everywhere. */
export function MyAccountScreen({ me }: { me: Account }) {
  const { t } = useTranslation();
  const when = useWhen();
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () => get<{ items: Session[] }>('/api/v1/auth/sessions'),
  });
  const passkeys = useQuery({
    queryKey: ['passkeys'],
    queryFn: () => get<{ items: Passkey[] }>('/api/v1/auth/passkeys'),
  });
  const everywhere = useMutation({
    mutationFn: () => send('POST', '/api/v1/auth/sign-out-everywhere'),
    onSuccess: () => setTimeout(() => location.assign('/sign-in'), 1500),
  });
  return (
    <>
      <h1>{t('me.title')}</h1>
      <p>
        {t('me.who')} <strong id="me-email">{me.email}</strong>
      </p>
      <section aria-labelledby="passkeys-title" className="fr-mb-4w">
        <h2 id="passkeys-title" className="fr-h4">
          {t('me.passkeys')}
        </h2>
        {passkeys.error ? <ErrorNotice error={passkeys.error} /> : null}
        <ul>
          {passkeys.data?.items.map((p) => (
            <li key={p.id}>
              {p.name} — {when(p.createdAt, true)}
            </li>
          ))}
        </ul>
        <a className="fr-link" href="/account">
          {t('me.manage')}
        </a>
      </section>
      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title" className="fr-h4">
          {t('me.sessions')}
        </h2>
        {sessions.error ? <ErrorNotice error={sessions.error} /> : null}
        {sessions.data ? (
          <Table
            headers={[t('me.started'), t('me.method'), 'Navigateur / Browser', 'Réseau / Network']}
            data={sessions.data.items.map((s) => [
              `${when(s.createdAt)}${s.current ? ` (${t('me.current')})` : ''}`,
              `${s.authLevel} (${s.aal})`,
              s.browserFamily,
              s.networkPrefix,
            ])}
          />
        ) : null}
        <Button
          id="sign-out-everywhere"
          priority="secondary"
          onClick={() => everywhere.mutate()}
          disabled={everywhere.isPending}
        >
          {t('me.everywhere')}
        </Button>
        <div aria-live="polite">
          {everywhere.isSuccess ? (
            <Notice severity="success" small description={t('me.everywhereDone')} />
          ) : null}
          {everywhere.error ? <ErrorNotice error={everywhere.error} /> : null}
        </div>
      </section>
      <DisclosedRecords accountId={me.id} own />
    </>
  );
}

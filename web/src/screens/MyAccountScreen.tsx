import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { send, type Account } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { DisclosedRecords } from './AlertInvestigation';
import { PasskeyList, SessionTable } from './SignInMethods';

/** The agent's own account: passkeys, live sessions, sign out everywhere. */
export function MyAccountScreen({ me }: { me: Account }) {
  const { t } = useTranslation();
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
        <PasskeyList url="/api/v1/auth/passkeys" />
        <a className="fr-link" href="/account">
          {t('me.manage')}
        </a>
      </section>
      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title" className="fr-h4">
          {t('me.sessions')}
        </h2>
        <SessionTable url="/api/v1/auth/sessions" />
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

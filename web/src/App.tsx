import { Footer } from '@codegouvfr/react-dsfr/Footer';
import { Header } from '@codegouvfr/react-dsfr/Header';
import { SkipLinks } from '@codegouvfr/react-dsfr/SkipLinks';
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, goSignIn, isForbidden, type Account } from './api';
import { ErrorNotice } from './ErrorNotice';
import { useRoute } from './router';
import { AccountScreen } from './screens/AccountScreen';
import { AccountsScreen } from './screens/AccountsScreen';
import { AlertScreen } from './screens/AlertScreen';
import { DelegationScreen } from './screens/DelegationScreen';
import { JournalScreen } from './screens/JournalScreen';
import { MyAccountScreen } from './screens/MyAccountScreen';
import { OrganisationsScreen } from './screens/OrganisationsScreen';
import { OverviewScreen } from './screens/OverviewScreen';
import { PoliciesScreen } from './screens/PoliciesScreen';

/**
 * Whether the API lets the signed-in account read what a screen shows: the console asks (one small
 * read) and hides the entry when the answer is a refusal. The API decides; this only reflects it.
 */
function useMayRead(url: string, enabled: boolean): boolean | undefined {
  const probe = useQuery({
    queryKey: ['may-read', url],
    queryFn: () => get<unknown>(url),
    enabled,
    staleTime: 60_000,
  });
  if (probe.isSuccess) return true;
  if (probe.error) return !isForbidden(probe.error);
  return undefined;
}

/** The signed-in account; a 401 sends the person to Vigie's passkey sign-in and back. */
export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => get<Account>('/api/v1/accounts/me') });
}

function Screen({ route, me }: { route: string; me: Account }) {
  const alert = /^alerts\/([A-Za-z0-9_-]+)$/.exec(route);
  if (alert) return <AlertScreen id={alert[1]!} />;
  const account = /^accounts\/([A-Za-z0-9_-]+)$/.exec(route);
  if (account) return <AccountScreen id={account[1]!} />;
  if (route === 'accounts') return <AccountsScreen />;
  if (route === 'journal') return <JournalScreen />;
  if (route === 'me') return <MyAccountScreen me={me} />;
  if (route === 'policies') return <PoliciesScreen />;
  if (route === 'delegation') return <DelegationScreen me={me} />;
  if (route === 'organisations') return <OrganisationsScreen />;
  return <OverviewScreen />;
}

export function App() {
  const { t, i18n } = useTranslation();
  const route = useRoute();
  const me = useMe();
  const signedOut = me.error instanceof ApiError && me.error.status === 401;
  useEffect(() => {
    if (signedOut) goSignIn();
  }, [signedOut]);
  useEffect(() => {
    document.title = `Vigie — ${t('app.tagline')}`;
  }, [t, i18n.language]);

  const other = i18n.language === 'fr' ? 'en' : 'fr';
  const mayAccounts = useMayRead('/api/v1/accounts?limit=1', me.isSuccess);
  const mayJournal = useMayRead('/api/v1/journal/verifier-key', me.isSuccess);
  const mayPolicies = useMayRead('/api/v1/access/policy', me.isSuccess);
  const mayDelegate = useMayRead('/api/v1/accounts/me/delegation-quotas', me.isSuccess);
  const mayOrganisations = useMayRead('/api/v1/organisations?limit=1', me.isSuccess);
  const nav = [
    { to: '', label: t('nav.overview'), shown: true },
    { to: 'accounts', label: t('nav.accounts'), shown: mayAccounts === true },
    { to: 'organisations', label: t('navMore.organisations'), shown: mayOrganisations === true },
    { to: 'delegation', label: t('navMore.delegation'), shown: mayDelegate === true },
    { to: 'journal', label: t('nav.journal'), shown: mayJournal === true },
    { to: 'policies', label: t('navMore.policies'), shown: mayPolicies === true },
    { to: 'me', label: t('nav.account'), shown: true },
  ].filter((n) => n.shown);
  return (
    <>
      <SkipLinks links={[{ anchor: '#content', label: t('app.skip') }]} />
      <Header
        brandTop={
          <>
            République
            <br />
            Française
          </>
        }
        serviceTitle={t('app.title')}
        serviceTagline={t('app.tagline')}
        homeLinkProps={{ href: '/console/', title: `${t('app.title')} — ${t('nav.overview')}` }}
        quickAccessItems={[
          {
            iconId: 'fr-icon-translate-2',
            buttonProps: {
              onClick: () => void i18n.changeLanguage(other),
              lang: other,
              'aria-label': t('lang.label'),
            },
            text: t('lang.switch'),
          },
          { iconId: 'fr-icon-logout-box-r-line', linkProps: { href: '/sign-out' }, text: t('nav.signOut') },
        ]}
        navigation={nav.map((n) => ({
          text: n.label,
          linkProps: { href: `/console/${n.to}` },
          isActive:
            route === n.to ||
            (n.to !== '' && route.startsWith(`${n.to}/`)) ||
            (n.to === '' && route.startsWith('alerts/')),
        }))}
      />
      <main id="content" className="fr-container fr-py-4w" tabIndex={-1}>
        {me.isPending || signedOut ? (
          <p>{t('common.loading')}</p>
        ) : me.error ? (
          <ErrorNotice error={me.error} />
        ) : (
          <Screen route={route} me={me.data} />
        )}
      </main>
      <Footer accessibility="non compliant" bottomItems={[]} contentDescription={t('app.tagline')} />
    </>
  );
}

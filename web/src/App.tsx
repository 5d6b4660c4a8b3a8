import { Footer } from '@codegouvfr/react-dsfr/Footer';
import { Header } from '@codegouvfr/react-dsfr/Header';
import { SkipLinks } from '@codegouvfr/react-dsfr/SkipLinks';
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, goSignIn, type Account } from './api';
import { ErrorNotice } from './ErrorNotice';
import { useRoute } from './router';
import { AlertScreen } from './screens/AlertScreen';
import { JournalScreen } from './screens/JournalScreen';
import { MyAccountScreen } from './screens/MyAccountScreen';
import { OverviewScreen } from './screens/OverviewScreen';

/** The signed-in account; a 401 sends the person to Vigie's passkey sign-in and back. */
export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => get<Account>('/api/v1/accounts/me') });
}

function Screen({ route, me }: { route: string; me: Account }) {
  const alert = /^alerts\/([A-Za-z0-9_-]+)$/.exec(route);
  if (alert) return <AlertScreen id={alert[1]!} />;
  if (route === 'journal') return <JournalScreen />;
  if (route === 'me') return <MyAccountScreen me={me} />;
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
  const nav = [
    { to: '', label: t('nav.overview') },
    { to: 'journal', label: t('nav.journal') },
    { to: 'me', label: t('nav.account') },
  ];
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
          isActive: route === n.to || (n.to === '' && route.startsWith('alerts/')),
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

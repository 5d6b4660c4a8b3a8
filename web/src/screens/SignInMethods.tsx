import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';

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

/**
 * An account's passkeys (public facts) and live sessions (network prefix, browser family,
 * strength): one's own from /api/v1/auth/*, another's from /api/v1/accounts/:id/* (account.read).
 */
export function PasskeyList({ url }: { url: string }) {
  const { t } = useTranslation();
  const when = useWhen();
  const passkeys = useQuery({ queryKey: ['passkeys', url], queryFn: () => get<{ items: Passkey[] }>(url) });
  if (passkeys.error) return <ErrorNotice error={passkeys.error} />;
  if (!passkeys.data) return null;
  if (passkeys.data.items.length === 0) return <p>{t('accounts.noPasskey')}</p>;
  return (
    <ul id="passkeys">
      {passkeys.data.items.map((p) => (
        <li key={p.id}>
          {p.name} — {when(p.createdAt, true)}
          {p.lastUsedAt ? ` (${t('accounts.lastUsed')} ${when(p.lastUsedAt)})` : ''}
        </li>
      ))}
    </ul>
  );
}

export function SessionTable({ url }: { url: string }) {
  const { t } = useTranslation();
  const when = useWhen();
  const sessions = useQuery({ queryKey: ['sessions', url], queryFn: () => get<{ items: Session[] }>(url) });
  if (sessions.error) return <ErrorNotice error={sessions.error} />;
  if (!sessions.data) return null;
  if (sessions.data.items.length === 0) return <p>{t('accounts.noSession')}</p>;
  return (
    <Table
      id="sessions"
      headers={[t('me.started'), t('me.method'), 'Navigateur / Browser', 'Réseau / Network']}
      data={sessions.data.items.map((s) => [
        `${when(s.createdAt)}${s.current ? ` (${t('me.current')})` : ''}`,
        `${s.authLevel} (${s.aal})`,
        s.browserFamily,
        s.networkPrefix,
      ])}
    />
  );
}

import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, parseCheckpoint, type Alert, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { JournalVerification } from '../JournalVerification';
import { useWhen } from '../format';
import { Link } from '../router';
import { DisclosurePanel } from './DisclosurePanel';
import { SeverityChart } from './SeverityChart';

const SEVERITY_BADGE: Record<string, 'info' | 'warning' | 'error' | 'new'> = {
  low: 'info',
  medium: 'new',
  high: 'warning',
  critical: 'error',
};

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge small severity={SEVERITY_BADGE[severity] ?? 'info'}>
      {severity}
    </Badge>
  );
}

/**
 * Open alerts, kept current by the SSE stream (/api/v1/alerts/stream): each alert the stream
 * sends is put at the top of the list the first query read, replacing an older copy of itself.
 */
function useLiveAlerts() {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const list = useQuery({
    queryKey: ['alerts', 'open'],
    queryFn: () => get<Page<Alert>>('/api/v1/alerts?status=new&limit=50'),
  });
  const allowed = list.isSuccess;
  useEffect(() => {
    if (!allowed) return;
    const source = new EventSource('/api/v1/alerts/stream');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('alert', (e) => {
      const alert = JSON.parse((e as MessageEvent<string>).data) as Alert;
      client.setQueryData<Page<Alert>>(['alerts', 'open'], (page) => {
        const items = (page?.items ?? []).filter((a) => a.id !== alert.id);
        return {
          nextCursor: page?.nextCursor ?? null,
          items: alert.status === 'new' ? [alert, ...items] : items,
        };
      });
    });
    return () => source.close();
  }, [allowed, client]);
  return { list, connected };
}

function AlertsPanel() {
  const { t } = useTranslation();
  const when = useWhen();
  const { list, connected } = useLiveAlerts();
  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const a of items) c[a.severity] = (c[a.severity] ?? 0) + 1;
    return c;
  }, [items]);
  if (list.isPending) return <p>{t('common.loading')}</p>;
  if (list.error)
    return isForbidden(list.error) ? <p>{t('overview.noAccess')}</p> : <ErrorNotice error={list.error} />;
  return (
    <>
      <section aria-labelledby="live-title">
        <h2 id="live-title" className="fr-h4">
          {t('overview.liveAlerts')}{' '}
          <Badge small severity={connected ? 'success' : 'warning'} id="live-status">
            {connected ? t('overview.live') : t('overview.offline')}
          </Badge>
        </h2>
        <div aria-live="polite" id="live-alerts">
          {items.length === 0 ? (
            <p>{t('overview.noAlert')}</p>
          ) : (
            <Table
              fixed
              headers={[t('alert.title'), t('alert.severity'), t('alert.entity'), t('alert.last'), '']}
              data={items.map((a) => [
                a.title,
                <SeverityBadge key="s" severity={a.severity} />,
                `${a.entity.type} ${a.entity.id}`,
                when(a.lastEventAt),
                <Link key="l" to={`alerts/${a.id}`} className="fr-link" data-alert-id={a.id}>
                  {t('overview.open')}
                  <span className="fr-sr-only"> {a.title}</span>
                </Link>,
              ])}
            />
          )}
        </div>
      </section>
      <section aria-labelledby="severity-title">
        <h2 id="severity-title" className="fr-h4">
          {t('overview.bySeverity')}
        </h2>
        <SeverityChart counts={counts} label={t('overview.bySeverity')} />
      </section>
    </>
  );
}

function JournalPanel() {
  const { t } = useTranslation();
  const checkpoint = useQuery({
    queryKey: ['journal', 'checkpoint'],
    queryFn: async () => parseCheckpoint(await get<string>('/api/v1/journal/checkpoint')),
    refetchInterval: 15_000,
  });
  return (
    <section aria-labelledby="journal-title">
      <h2 id="journal-title" className="fr-h4">
        {t('overview.journal')}
      </h2>
      {checkpoint.isPending ? (
        <p>{t('common.loading')}</p>
      ) : checkpoint.error ? (
        isForbidden(checkpoint.error) ? (
          <p>{t('overview.noJournal')}</p>
        ) : (
          <ErrorNotice error={checkpoint.error} />
        )
      ) : (
        <dl>
          <dt>{t('overview.journalSize')}</dt>
          <dd id="journal-size">{checkpoint.data.size}</dd>
          <dt>{t('journal.root')}</dt>
          <dd className="vigie-mono">{checkpoint.data.rootHash}</dd>
          <dt>{t('journal.wholeTitle')}</dt>
          <dd>
            <JournalVerification />
          </dd>
          <dd>
            <Link to="journal" className="fr-link">
              {t('journal.title')}
            </Link>
          </dd>
        </dl>
      )}
    </section>
  );
}

export function OverviewScreen() {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('overview.title')}</h1>
      <div className="vigie-grid">
        <div>
          <AlertsPanel />
        </div>
        <JournalPanel />
      </div>
      <DisclosurePanel />
    </>
  );
}

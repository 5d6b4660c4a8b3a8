import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, type Page } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { Link } from '../router';
import { TimeChart, type TimeSeries } from './TimeChart';

interface TopEntry {
  readonly id: string;
  readonly records: number;
  readonly window: { records: number; soft: number; hard: number; frozen: boolean } | null;
}

interface Stats {
  readonly since: string;
  readonly scope: 'operator' | 'structures';
  readonly windowMinutes: number;
  readonly hourly: { hour: string; disclosures: number; records: number }[];
  readonly denials: { reason: string; count: number }[];
  readonly top: { accounts: TopEntry[]; organisations: TopEntry[]; applications: TopEntry[] };
}

const HOURS = 24;

/** The budget window of the one structure a partner's reader sees, if that is what it sees. */
function structureBudget(s: Stats): TopEntry['window'] {
  return s.scope === 'structures' && s.top.organisations.length === 1 ? s.top.organisations[0]!.window : null;
}
const TOP = 5;

/**
 * Names of the organisations or applications the reader may also list (one page of 500); an id
 * the reader may not resolve stays an id.
 */
function useNames(url: string): ReadonlyMap<string, string> {
  const list = useQuery({
    queryKey: ['names', url],
    queryFn: () => get<Page<{ id: string; name: string }>>(url),
    staleTime: 300_000,
    retry: false,
  });
  return useMemo(() => new Map((list.data?.items ?? []).map((x) => [x.id, x.name])), [list.data]);
}

function WindowMeter({ w }: { w: TopEntry['window'] }) {
  const { t } = useTranslation();
  if (!w) return <>—</>;
  const share = w.hard > 0 ? Math.round((w.records / w.hard) * 100) : 0;
  return (
    <>
      {t('stats.window', { records: w.records, hard: w.hard, share })}
      {w.records >= w.soft ? (
        <>
          {' '}
          <Badge small severity={w.records >= w.hard ? 'error' : 'warning'}>
            {w.records >= w.hard ? t('stats.hardReached') : t('stats.softReached')}
          </Badge>
        </>
      ) : null}
      {w.frozen ? (
        <>
          {' '}
          <Badge small severity="error">
            {t('stats.frozen')}
          </Badge>
        </>
      ) : null}
    </>
  );
}

function TopTable({
  kind,
  rows,
  names,
}: {
  kind: 'accounts' | 'organisations' | 'applications';
  rows: TopEntry[];
  names?: ReadonlyMap<string, string>;
}) {
  const { t } = useTranslation();
  return (
    <div id={`top-${kind}`}>
      <h3 className="fr-h6">{t(`stats.top.${kind}`)}</h3>
      {rows.length === 0 ? (
        <p>{t('common.none')}</p>
      ) : (
        <Table
          fixed
          headers={[t(`stats.head.${kind}`), t('stats.records'), t('stats.windowHead')]}
          data={rows.map((r) => [
            kind === 'accounts' ? (
              <Link key="l" to={`accounts/${r.id}`} className="fr-link vigie-mono">
                {r.id}
              </Link>
            ) : (
              <span key="i">
                {names?.get(r.id) ? (
                  <>
                    {names.get(r.id)}
                    <br />
                  </>
                ) : null}
                <span className="vigie-mono fr-hint-text">{r.id}</span>
              </span>
            ),
            r.records,
            <WindowMeter key="w" w={r.window} />,
          ])}
        />
      )}
    </div>
  );
}

/**
 * Records disclosed per hour, denials by reason and the top disclosers with their budget window
 * (GET /api/v1/access/stats), refreshed every minute. Within the reader's scope: a partner's reader
 * sees its structure's figures, drawn against its organisation's hourly budget.
 */
export function DisclosurePanel() {
  const { t } = useTranslation();
  const stats = useQuery({
    queryKey: ['access', 'stats'],
    queryFn: () => get<Stats>(`/api/v1/access/stats?hours=${HOURS}&top=${TOP}`),
    refetchInterval: 60_000,
  });
  const data = stats.data;
  const organisationNames = useNames('/api/v1/organisations?limit=500');
  const applicationNames = useNames('/api/v1/applications?limit=500');
  const series = useMemo<TimeSeries[]>(() => {
    if (!data) return [];
    const hours = data.hourly.map((h) => Date.parse(h.hour));
    const out: TimeSeries[] = [
      {
        name: t('stats.recordsPerHour'),
        kind: 'bar',
        colour: '#000091',
        points: data.hourly.map((h, i) => [hours[i]!, h.records] as const),
      },
    ];
    // One structure in view: its organisation's hard budget per window is the line to stay under,
    // drawn when the hours come within a tenth of it (else it would flatten the bars to nothing;
    // the caption below says it in words either way).
    const budget = structureBudget(data);
    const peak = Math.max(0, ...data.hourly.map((h) => h.records));
    if (budget && peak * 10 >= budget.hard)
      out.push({
        name: t('stats.budgetLine', { hard: budget.hard, minutes: data.windowMinutes }),
        kind: 'line',
        dashed: true,
        colour: '#ce0500',
        points: hours.map((h) => [h, budget.hard] as const),
      });
    return out;
  }, [data, t]);

  if (stats.isPending) return <p>{t('common.loading')}</p>;
  if (stats.error)
    return isForbidden(stats.error) ? <p>{t('stats.noAccess')}</p> : <ErrorNotice error={stats.error} />;
  const s = stats.data;
  const total = s.hourly.reduce((n, h) => n + h.records, 0);
  const peak = Math.max(0, ...s.hourly.map((h) => h.records));
  return (
    <section aria-labelledby="stats-title" id="disclosure-stats">
      <h2 id="stats-title" className="fr-h4">
        {t('stats.title', { hours: HOURS })}
      </h2>
      <p className="fr-hint-text">
        {s.scope === 'operator' ? t('stats.scopeOperator') : t('stats.scopeStructures')}
      </p>
      <TimeChart series={series} label={t('stats.chartLabel', { hours: HOURS, total, peak })} />
      {structureBudget(s) ? (
        <p className="fr-hint-text" id="structure-budget">
          {t('stats.budgetText', { hard: structureBudget(s)!.hard, minutes: s.windowMinutes, peak })}
        </p>
      ) : null}
      <div className="vigie-grid">
        <div id="denials">
          <h3 className="fr-h6">{t('stats.denials')}</h3>
          {s.denials.length === 0 ? (
            <p>{t('common.none')}</p>
          ) : (
            <Table
              fixed
              headers={[t('stats.reason'), t('stats.count')]}
              data={s.denials.map((d) => [
                <span key="r">
                  {t(`stats.reasons.${d.reason}`, { defaultValue: d.reason })}{' '}
                  <span className="vigie-mono fr-hint-text">{d.reason}</span>
                </span>,
                d.count,
              ])}
            />
          )}
        </div>
        <TopTable kind="accounts" rows={s.top.accounts} />
        <TopTable kind="organisations" rows={s.top.organisations} names={organisationNames} />
        <TopTable kind="applications" rows={s.top.applications} names={applicationNames} />
      </div>
    </section>
  );
}

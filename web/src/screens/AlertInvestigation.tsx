import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';
import { TimeChart, type TimeSeries } from './TimeChart';

interface Observation {
  readonly id: string;
  readonly ruleId: string;
  readonly weight: number;
  readonly riskAfter: number;
  readonly factors: string[];
  readonly evidence: string[];
  readonly alertId: string | null;
  readonly observedAt: string;
}

interface RiskAnswer {
  readonly entityId: string;
  readonly risk: Record<string, number>;
  readonly items: Observation[];
}

interface Disclosure {
  readonly eventId: string;
  readonly time: string;
  readonly recordId: string;
  readonly applicationId: string | null;
  readonly breakGlass: boolean;
}

/** How far back the records an account disclosed are listed (the API's cap is a week). */
const DISCLOSURE_HOURS = 168;

/**
 * The alert's evidence as a timeline: each signal the entity received (GET /api/v1/risk/entities/:id),
 * its weight after the factors and the risk just after it, oldest first, drawn and tabulated.
 */
export function RiskTimeline({
  entityId,
  alertId,
  evidence,
}: {
  entityId: string;
  alertId: string;
  /** The alert's evidence (journal event ids): a signal whose events are among them is marked. */
  evidence: readonly string[];
}) {
  const { t } = useTranslation();
  const when = useWhen();
  const risk = useQuery({
    queryKey: ['risk', entityId],
    queryFn: () => get<RiskAnswer>(`/api/v1/risk/entities/${encodeURIComponent(entityId)}?limit=200`),
  });
  const items = useMemo(() => [...(risk.data?.items ?? [])].reverse(), [risk.data]);
  const series = useMemo<TimeSeries[]>(
    () => [
      {
        name: t('investigation.riskAfter'),
        kind: 'line',
        colour: '#ce0500',
        points: items.map((o) => [Date.parse(o.observedAt), o.riskAfter] as const),
      },
      {
        name: t('investigation.weight'),
        kind: 'bar',
        colour: '#6a6af4',
        points: items.map((o) => [Date.parse(o.observedAt), o.weight] as const),
      },
    ],
    [items, t],
  );
  const inAlert = useMemo(() => new Set(evidence), [evidence]);
  const now = risk.data?.risk ?? {};
  return (
    <section aria-labelledby="timeline-title" className="fr-mb-4w">
      <h2 id="timeline-title" className="fr-h4">
        {t('investigation.timeline')}
      </h2>
      {risk.isPending ? (
        <p>{t('common.loading')}</p>
      ) : risk.error ? (
        isForbidden(risk.error) ? (
          <p>{t('investigation.noRisk')}</p>
        ) : (
          <ErrorNotice error={risk.error} />
        )
      ) : items.length === 0 ? (
        <p id="timeline-empty">{t('investigation.noSignal')}</p>
      ) : (
        <>
          <p id="risk-now">
            {t('investigation.riskNow')}{' '}
            {Object.keys(now).length === 0
              ? t('investigation.riskForgotten')
              : Object.entries(now)
                  .map(([kind, v]) => `${kind} ${v}`)
                  .join(', ')}
          </p>
          <TimeChart
            id="risk-chart"
            series={series}
            label={t('investigation.timelineLabel', {
              count: items.length,
              max: Math.max(...items.map((o) => o.riskAfter)),
            })}
          />
          <p className="fr-hint-text">{t('investigation.decay')}</p>
          <div id="timeline">
            <Table
              fixed
              headers={[
                t('investigation.when'),
                t('alert.rule'),
                t('investigation.weight'),
                t('investigation.riskAfter'),
                t('investigation.factors'),
                t('investigation.raised'),
              ]}
              data={items.map((o) => [
                when(o.observedAt),
                <span key="r" className="vigie-mono">
                  {o.ruleId}
                </span>,
                o.weight,
                o.riskAfter,
                o.factors.join(', ') || '—',
                o.alertId === alertId || o.evidence.some((e) => inAlert.has(e)) ? (
                  t('investigation.thisAlert')
                ) : o.alertId !== null ? (
                  <Link key="a" to={`alerts/${o.alertId}`} className="fr-link">
                    {t('investigation.otherAlert')}
                  </Link>
                ) : (
                  '—'
                ),
              ])}
            />
          </div>
        </>
      )}
    </section>
  );
}

/** The records the account disclosed (opaque ids only), newest first, with the deciding event. */
export function DisclosedRecords({ accountId, own = false }: { accountId: string; own?: boolean }) {
  const { t } = useTranslation();
  const when = useWhen();
  const list = useQuery({
    queryKey: ['disclosures', accountId],
    queryFn: () =>
      get<{ items: Disclosure[] }>(
        `/api/v1/access/disclosures?accountId=${accountId}&hours=${DISCLOSURE_HOURS}&limit=100`,
      ),
  });
  return (
    <section aria-labelledby="disclosed-title" className="fr-mb-4w">
      <h2 id="disclosed-title" className="fr-h4">
        {own ? t('investigation.disclosedMine') : t('investigation.disclosed')}
      </h2>
      {list.isPending ? (
        <p>{t('common.loading')}</p>
      ) : list.error ? (
        isForbidden(list.error) ? (
          <p>{t('investigation.noDisclosures')}</p>
        ) : (
          <ErrorNotice error={list.error} />
        )
      ) : (
        <div id="disclosed">
          <p>
            {t('investigation.disclosedCount', {
              count: list.data.items.length,
              days: DISCLOSURE_HOURS / 24,
            })}
          </p>
          {list.data.items.length > 0 ? (
            <Table
              fixed
              headers={[
                t('investigation.when'),
                t('investigation.record'),
                t('investigation.application'),
                t('investigation.event'),
              ]}
              data={list.data.items.map((d) => [
                when(d.time),
                <span key="r" className="vigie-mono" data-record={d.recordId}>
                  {d.recordId}
                  {d.breakGlass ? (
                    <>
                      {' '}
                      <Badge small severity="warning">
                        {t('investigation.breakGlass')}
                      </Badge>
                    </>
                  ) : null}
                </span>,
                <span key="a" className="vigie-mono">
                  {d.applicationId ?? '—'}
                </span>,
                <span key="e" className="vigie-mono">
                  {d.eventId}
                </span>,
              ])}
            />
          ) : null}
        </div>
      )}
    </section>
  );
}

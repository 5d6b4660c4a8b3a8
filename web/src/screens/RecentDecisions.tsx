import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get, isForbidden } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';

interface Decision {
  readonly eventId: string;
  readonly time: string;
  readonly action: string;
  readonly decision: boolean;
  readonly reasons: string[];
  readonly recordId: string | null;
  readonly unknownRecord: boolean;
  readonly applicationId: string | null;
}

/** How far back and how many (the API's caps: a day, 200). */
const HOURS = 24;
const LIMIT = 50;

/** An account's latest access decisions, allowed and denied, with the reasons of each refusal. */
export function RecentDecisions({ accountId }: { accountId: string }) {
  const { t } = useTranslation();
  const when = useWhen();
  const list = useQuery({
    queryKey: ['decisions', accountId],
    queryFn: () =>
      get<{ items: Decision[] }>(
        `/api/v1/access/decisions?accountId=${accountId}&hours=${HOURS}&limit=${LIMIT}`,
      ),
  });
  return (
    <section aria-labelledby="decisions-title" className="fr-mb-4w">
      <h2 id="decisions-title" className="fr-h4">
        {t('decisions.title')}
      </h2>
      {list.isPending ? (
        <p>{t('common.loading')}</p>
      ) : list.error ? (
        isForbidden(list.error) ? (
          <p>{t('decisions.noAccess')}</p>
        ) : (
          <ErrorNotice error={list.error} />
        )
      ) : (
        <div id="decisions">
          <p>{t('decisions.count', { count: list.data.items.length, hours: HOURS, limit: LIMIT })}</p>
          {list.data.items.length > 0 ? (
            <Table
              fixed
              headers={[
                t('investigation.when'),
                t('decisions.action'),
                t('decisions.decision'),
                t('investigation.record'),
                t('investigation.application'),
              ]}
              data={list.data.items.map((d) => [
                when(d.time),
                d.action,
                d.decision ? (
                  <Badge key="d" small severity="success">
                    {t('decisions.allowed')}
                  </Badge>
                ) : (
                  <span key="d">
                    <Badge small severity="error">
                      {t('decisions.denied')}
                    </Badge>{' '}
                    {d.reasons.map((r) => t(`stats.reasons.${r}`, { defaultValue: r })).join(', ')}
                  </span>
                ),
                <span key="r" className="vigie-mono">
                  {d.unknownRecord ? t('decisions.unknown') : (d.recordId ?? '—')}
                </span>,
                <span key="a" className="vigie-mono">
                  {d.applicationId ?? '—'}
                </span>,
              ])}
            />
          ) : null}
        </div>
      )}
    </section>
  );
}

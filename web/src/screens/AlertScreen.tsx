import { Button } from '@codegouvfr/react-dsfr/Button';
import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, goStepUp, isStepUp, send, type Account, type Alert, type AlertResponse } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import { Link } from '../router';
import { DisclosedRecords, RiskTimeline } from './AlertInvestigation';
import { SeverityBadge } from './OverviewScreen';
import { RecentDecisions } from './RecentDecisions';

/** The reason typed before a step-up, kept for this tab only, so the person need not type it again. */
const REASON_KEY = 'vigie.console.reason';

interface Act {
  readonly key: string;
  readonly label: string;
  readonly run: (reason: string) => Promise<string>;
}

function useAct(alertId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ act, reason }: { act: Act; reason: string }) => act.run(reason),
    onSuccess: () => client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' }),
    onError: (error, { reason }) => {
      if (isStepUp(error)) {
        sessionStorage.setItem(REASON_KEY, JSON.stringify({ alertId, reason }));
        goStepUp(error);
      }
    },
  });
}

function savedReason(alertId: string): string {
  try {
    const saved = JSON.parse(sessionStorage.getItem(REASON_KEY) ?? 'null') as {
      alertId: string;
      reason: string;
    } | null;
    return saved?.alertId === alertId ? saved.reason : '';
  } catch {
    return '';
  }
}

export function AlertScreen({ id }: { id: string }) {
  const { t } = useTranslation();
  const when = useWhen();
  const [reason, setReason] = useState(() => savedReason(id));
  const alert = useQuery({ queryKey: ['alert', id], queryFn: () => get<Alert>(`/api/v1/alerts/${id}`) });
  const responses = useQuery({
    queryKey: ['alert', id, 'responses'],
    queryFn: () => get<{ items: AlertResponse[] }>(`/api/v1/alerts/${id}/responses`),
  });
  const accountId = alert.data?.entity.type === 'account' ? alert.data.entity.id : null;
  const target = useQuery({
    queryKey: ['account', accountId],
    queryFn: () => get<Account>(`/api/v1/accounts/${accountId}`),
    enabled: accountId !== null,
  });
  const organisationId = alert.data?.organisationId ?? null;
  const budget = useQuery({
    queryKey: ['budget', 'organisation', organisationId],
    queryFn: () => get<{ frozen: boolean }>(`/api/v1/access/budgets/organisation/${organisationId}`),
    enabled: organisationId !== null,
  });
  const act = useAct(id);

  if (alert.isPending) return <p>{t('common.loading')}</p>;
  if (alert.error) return <ErrorNotice error={alert.error} />;
  const a = alert.data;

  const acts: Act[] = [];
  if (accountId) {
    const suspend = (lineage: boolean) => async (r: string) => {
      const out = await send<{ suspended: string[] }>('POST', `/api/v1/accounts/${accountId}/suspend`, {
        reason: r,
        lineage,
      });
      return t('alert.suspended', { count: out.suspended.length });
    };
    if (target.data?.status === 'suspended') {
      acts.push({
        key: 'reactivate',
        label: t('alert.reactivate'),
        run: async (r) => {
          await send('POST', `/api/v1/accounts/${accountId}/reactivate`, { reason: r });
          return t('alert.done', { what: t('alert.reactivate') });
        },
      });
    } else {
      acts.push({ key: 'suspend', label: t('alert.suspend'), run: suspend(false) });
    }
    // An account a response already suspended may still have created or approved others.
    acts.push({ key: 'suspend-lineage', label: t('alert.suspendLineage'), run: suspend(true) });
    acts.push({
      key: 'revoke',
      label: t('alert.revoke'),
      run: async (r) => {
        await send('POST', `/api/v1/accounts/${accountId}/revoke-tokens`, { reason: r });
        return t('alert.done', { what: t('alert.revoke') });
      },
    });
  }
  if (organisationId) {
    // Freezing the organisation's budgets stops every disclosure in it until unfrozen (journaled).
    const frozen = budget.data?.frozen === true;
    const label = frozen ? t('alert.unfreezeOrg') : t('alert.freezeOrg');
    acts.push({
      key: frozen ? 'unfreeze-org' : 'freeze-org',
      label,
      run: async (r) => {
        const out = await send<{ changed: boolean }>(
          'POST',
          frozen ? '/api/v1/access/freezes/clear' : '/api/v1/access/freezes',
          { target: { type: 'organisation', id: organisationId }, reason: r },
        );
        return out.changed ? t('alert.done', { what: label }) : t('alert.already');
      },
    });
  }
  const close = (status: string, label: string): Act => ({
    key: status,
    label,
    run: async (r) => {
      await send('PATCH', `/api/v1/alerts/${id}`, { status, comment: r });
      return t('alert.done', { what: label });
    },
  });
  const closing = a.status.startsWith('closed')
    ? []
    : [
        ...(a.status === 'new' ? [close('acknowledged', t('alert.acknowledge'))] : []),
        close('closed_true_positive', t('alert.closeTrue')),
        close('closed_false_positive', t('alert.closeFalse')),
      ];
  const reasonOk = reason.trim().length >= 3;
  const run = (x: Act) => {
    if (!reasonOk) return;
    act.mutate({ act: x, reason: reason.trim() });
  };

  return (
    <>
      <p>
        <Link to="" className="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          {t('common.back')}
        </Link>
      </p>
      <h1>
        {t('alert.title')} : {a.title}
      </h1>
      <dl className="fr-mb-3w">
        <dt>{t('alert.severity')}</dt>
        <dd>
          <SeverityBadge severity={a.severity} />
        </dd>
        <dt>{t('alert.status')}</dt>
        <dd id="alert-status">{a.status}</dd>
        <dt>{t('alert.rule')}</dt>
        <dd className="vigie-mono">{a.ruleId}</dd>
        <dt>{t('alert.entity')}</dt>
        <dd className="vigie-mono">
          {a.entity.type} {a.entity.id}
          {target.data ? ` (${target.data.status})` : ''}
        </dd>
        {organisationId ? (
          <>
            <dt>{t('alert.organisation')}</dt>
            <dd className="vigie-mono" id="alert-organisation">
              {organisationId}
              {budget.data?.frozen ? ` (${t('stats.frozen')})` : ''}
            </dd>
          </>
        ) : null}
        <dt>{t('alert.occurrences')}</dt>
        <dd>{a.occurrences}</dd>
        <dt>{t('alert.first')}</dt>
        <dd>{when(a.firstEventAt)}</dd>
        <dt>{t('alert.last')}</dt>
        <dd>{when(a.lastEventAt)}</dd>
      </dl>

      <section aria-labelledby="acts-title" className="fr-mb-4w">
        <h2 id="acts-title" className="fr-h4">
          {t('alert.actions')}
        </h2>
        <p className="fr-hint-text">{t('alert.stepUpNote')}</p>
        {accountId ? null : <p>{t('alert.notAccount')}</p>}
        <Input
          label={t('common.reason')}
          nativeInputProps={{
            id: 'reason',
            value: reason,
            minLength: 3,
            maxLength: 500,
            required: true,
            onChange: (e) => setReason(e.target.value),
          }}
        />
        <ul className="fr-btns-group fr-btns-group--inline-md">
          {[...acts, ...closing].map((x) => (
            <li key={x.key}>
              <Button
                id={`act-${x.key}`}
                priority={x.key.startsWith('suspend') || x.key === 'freeze-org' ? 'primary' : 'secondary'}
                disabled={!reasonOk || act.isPending}
                onClick={() => run(x)}
              >
                {x.label}
              </Button>
            </li>
          ))}
        </ul>
        <div aria-live="polite" id="act-result">
          {act.isSuccess ? <Notice severity="success" small description={act.data} /> : null}
          {act.error && !isStepUp(act.error) ? <ErrorNotice error={act.error} /> : null}
        </div>
      </section>

      <section aria-labelledby="responses-title" className="fr-mb-4w">
        <h2 id="responses-title" className="fr-h4">
          {t('alert.responses')}
        </h2>
        {responses.error ? <ErrorNotice error={responses.error} /> : null}
        {responses.data?.items.length ? (
          <ul>
            {responses.data.items.map((r) => (
              <li key={r.id}>
                <span className="vigie-mono">{r.action}</span> → {r.target.type} {r.target.id} ({r.status},{' '}
                {when(r.executedAt)}){' '}
                {r.status === 'executed' ? (
                  <Button
                    size="small"
                    priority="tertiary"
                    disabled={!reasonOk || act.isPending}
                    onClick={() =>
                      run({
                        key: `undo-${r.id}`,
                        label: t('alert.undo'),
                        run: async (why) => {
                          await send('POST', `/api/v1/responses/${r.id}/undo`, { reason: why });
                          return t('alert.done', { what: `${t('alert.undo')} ${r.action}` });
                        },
                      })
                    }
                  >
                    {t('alert.undo')} <span className="fr-sr-only">{r.action}</span>
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        ) : (
          <p>{t('common.none')}</p>
        )}
      </section>

      <RiskTimeline entityId={a.entity.id} alertId={a.id} evidence={a.evidence.map((e) => e.eventId)} />
      {accountId ? <RecentDecisions accountId={accountId} /> : null}
      {accountId ? <DisclosedRecords accountId={accountId} /> : null}

      <section aria-labelledby="evidence-title">
        <h2 id="evidence-title" className="fr-h4">
          {t('alert.evidence')}
        </h2>
        <ol className="vigie-mono">
          {a.evidence.map((e) => (
            <li key={e.eventId}>{e.eventId}</li>
          ))}
        </ol>
      </section>
    </>
  );
}

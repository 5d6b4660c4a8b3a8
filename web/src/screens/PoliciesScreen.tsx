import { Badge } from '@codegouvfr/react-dsfr/Badge';
import { Table } from '@codegouvfr/react-dsfr/Table';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get, isForbidden } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { useWhen } from '../format';
import type { Control } from './OrganisationsScreen';

interface Threshold {
  readonly soft: number;
  readonly hard: number;
}

interface Budgets {
  readonly policy: { name: string; version: string; loadedAt: string | null };
  readonly budgets: {
    windowMinutes: number;
    countedActions: string[];
    onHard: 'deny' | 'step_up';
    account: {
      default: Threshold;
      byRole: (Threshold & { role: string })[];
      recentlyApproved: (Threshold & { hours: number }) | null;
    };
    organisation: { default: Threshold; byKind: (Threshold & { kind: string })[] };
    application: { default: Threshold; byKind: (Threshold & { kind: string })[] };
    exportFourEyesAbove: number | null;
  } | null;
  readonly breakGlassPerDay: number;
}

interface PolicySummary {
  readonly name: string;
  readonly version: string;
  readonly files: string[];
  readonly rules: number;
  readonly loadedAt: string | null;
}

interface RuleSummary {
  readonly id: string;
  readonly title: string;
  readonly level: string;
  readonly entity: string;
  readonly responses: string[];
  readonly risk?: { weight: number };
  readonly enabled: boolean;
  readonly file: string;
}

function Refused({ error, text }: { error: unknown; text: string }) {
  return isForbidden(error) ? <p>{text}</p> : <ErrorNotice error={error} />;
}

function BudgetTables({ b }: { b: NonNullable<Budgets['budgets']> }) {
  const { t } = useTranslation();
  const headers = (what: string) => [what, t('policies.soft'), t('policies.hard')];
  const row = (name: string, x: Threshold) => [name, x.soft, x.hard];
  return (
    <>
      <p id="budget-window">
        {t('policies.window', {
          minutes: b.windowMinutes,
          actions: b.countedActions.join(', '),
          onHard: t(`policies.onHard.${b.onHard}`),
        })}
      </p>
      <div className="vigie-grid">
        <div id="budgets-roles">
          <Table
            fixed
            caption={t('policies.byRole')}
            headers={headers(t('policies.role'))}
            data={[
              ...b.account.byRole.map((r) => row(r.role, r)),
              ...(b.account.recentlyApproved
                ? [
                    row(
                      t('policies.recent', { hours: b.account.recentlyApproved.hours }),
                      b.account.recentlyApproved,
                    ),
                  ]
                : []),
              row(t('policies.otherAccounts'), b.account.default),
            ]}
          />
        </div>
        <div id="budgets-kinds">
          <Table
            fixed
            caption={t('policies.byKind')}
            headers={headers(t('policies.kind'))}
            data={[
              ...b.organisation.byKind.map((k) => row(k.kind, k)),
              row(t('policies.otherKinds'), b.organisation.default),
            ]}
          />
        </div>
        <div id="budgets-applications">
          <Table
            fixed
            caption={t('policies.applications')}
            headers={headers(t('policies.kind'))}
            data={[
              ...b.application.byKind.map((k) => row(k.kind, k)),
              row(t('policies.otherKinds'), b.application.default),
            ]}
          />
        </div>
      </div>
      {b.exportFourEyesAbove !== null ? (
        <p>{t('policies.exportFourEyes', { above: b.exportFourEyesAbove })}</p>
      ) : null}
    </>
  );
}

/**
 * Policies and rules, read-only: the active access policy and its version, its disclosure budgets
 * per role and per kind of organisation, and the detection rule pack. Each part says so when the
 * account may not read it (policy.read, rule.read).
 */
export function PoliciesScreen() {
  const { t } = useTranslation();
  const when = useWhen();
  const policy = useQuery({
    queryKey: ['access', 'policy'],
    queryFn: () => get<PolicySummary>('/api/v1/access/policy'),
  });
  const budgets = useQuery({
    queryKey: ['access', 'budgets'],
    queryFn: () => get<Budgets>('/api/v1/access/policy/budgets'),
  });
  const controls = useQuery({
    queryKey: ['access', 'controls'],
    queryFn: () => get<{ items: Control[]; truncated: boolean }>('/api/v1/access/controls'),
  });
  const rules = useQuery({
    queryKey: ['rules'],
    queryFn: () => get<{ items: RuleSummary[] }>('/api/v1/rules'),
  });
  return (
    <>
      <h1>{t('policies.title')}</h1>
      <p className="fr-hint-text">{t('policies.readOnly')}</p>
      <section aria-labelledby="policy-title" className="fr-mb-4w">
        <h2 id="policy-title" className="fr-h4">
          {t('policies.active')}
        </h2>
        {policy.isPending ? (
          <p>{t('common.loading')}</p>
        ) : policy.error ? (
          <Refused error={policy.error} text={t('policies.noPolicy')} />
        ) : (
          <dl>
            <dt>{t('policies.name')}</dt>
            <dd id="policy-name">{policy.data.name}</dd>
            <dt>{t('policies.version')}</dt>
            <dd id="policy-version" className="vigie-mono">
              {policy.data.version}
            </dd>
            <dt>{t('policies.files')}</dt>
            <dd className="vigie-mono">{policy.data.files.join(', ')}</dd>
            <dt>{t('policies.ruleCount')}</dt>
            <dd>{policy.data.rules}</dd>
            <dt>{t('policies.loadedAt')}</dt>
            <dd>{policy.data.loadedAt ? when(policy.data.loadedAt) : '—'}</dd>
          </dl>
        )}
      </section>
      <section aria-labelledby="budgets-title" className="fr-mb-4w">
        <h2 id="budgets-title" className="fr-h4">
          {t('policies.budgets')}
        </h2>
        {budgets.isPending ? (
          <p>{t('common.loading')}</p>
        ) : budgets.error ? (
          <Refused error={budgets.error} text={t('policies.noPolicy')} />
        ) : budgets.data.budgets ? (
          <>
            <BudgetTables b={budgets.data.budgets} />
            <p>{t('policies.breakGlass', { count: budgets.data.breakGlassPerDay })}</p>
          </>
        ) : (
          <p>{t('policies.noBudgets')}</p>
        )}
      </section>
      <section aria-labelledby="controls-title" className="fr-mb-4w">
        <h2 id="controls-title" className="fr-h4">
          {t('policies.controls')}
        </h2>
        {controls.isPending ? (
          <p>{t('common.loading')}</p>
        ) : controls.error ? (
          <Refused error={controls.error} text={t('policies.noPolicy')} />
        ) : controls.data.items.length === 0 ? (
          <p>{t('common.none')}</p>
        ) : (
          <div id="controls">
            <Table
              fixed
              headers={[t('policies.control'), t('policies.target'), t('common.reason'), t('policies.since')]}
              data={controls.data.items.map((c) => [
                t(`policies.controlKinds.${c.kind}`),
                <span key="t" className="vigie-mono">
                  {c.target.type} {c.target.id}
                </span>,
                c.reason,
                when(c.createdAt),
              ])}
            />
            {controls.data.truncated ? <p className="fr-hint-text">{t('policies.truncated')}</p> : null}
          </div>
        )}
      </section>
      <section aria-labelledby="rules-title">
        <h2 id="rules-title" className="fr-h4">
          {t('policies.rules')}
        </h2>
        {rules.isPending ? (
          <p>{t('common.loading')}</p>
        ) : rules.error ? (
          <Refused error={rules.error} text={t('policies.noRules')} />
        ) : (
          <div id="rules">
            <p>{t('policies.ruleTotal', { count: rules.data.items.length })}</p>
            <Table
              fixed
              headers={[
                t('policies.rule'),
                t('policies.level'),
                t('policies.entity'),
                t('policies.effect'),
                '',
              ]}
              data={rules.data.items.map((r) => [
                <span key="r">
                  <span className="vigie-mono">{r.id}</span>
                  <br />
                  {r.title}
                </span>,
                r.level,
                r.entity,
                r.risk
                  ? t('policies.signal', { weight: r.risk.weight })
                  : r.responses.length > 0
                    ? r.responses.join(', ')
                    : t('policies.alertOnly'),
                r.enabled ? (
                  <Badge key="e" small severity="success">
                    {t('policies.enabled')}
                  </Badge>
                ) : (
                  <Badge key="e" small>
                    {t('policies.disabled')}
                  </Badge>
                ),
              ])}
            />
          </div>
        )}
      </section>
    </>
  );
}

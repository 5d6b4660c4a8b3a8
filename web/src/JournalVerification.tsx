import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, send } from './api';
import { ErrorNotice } from './ErrorNotice';
import { useWhen } from './format';

/** GET /api/v1/journal/verifications/latest. */
interface VerificationsLatest {
  running: { startedAt: string; requestedBy: string } | null;
  last: {
    via: 'api' | 'cli';
    finishedAt: string;
    ok: boolean;
    treeSize: number;
    entriesChecked: number;
    problem?: { code: string; index?: number; eventId?: string };
  } | null;
}

/**
 * When the journal was last verified whole (every entry and tile against the signed checkpoint,
 * on the server), and with `canStart` a button that starts a verification and follows it.
 */
export function JournalVerification({ canStart = false }: { canStart?: boolean }) {
  const { t } = useTranslation();
  const when = useWhen();
  const client = useQueryClient();
  const latest = useQuery({
    queryKey: ['journal', 'verifications'],
    queryFn: () => get<VerificationsLatest>('/api/v1/journal/verifications/latest'),
    // Followed every second while one runs, else now and then.
    refetchInterval: (q) => (q.state.data?.running ? 1_000 : 30_000),
  });
  const start = useMutation({
    mutationFn: () => send<{ startedAt: string }>('POST', '/api/v1/journal/verifications'),
    onSettled: () => client.invalidateQueries({ queryKey: ['journal', 'verifications'] }),
  });

  if (latest.error) return isForbidden(latest.error) ? null : <ErrorNotice error={latest.error} />;
  const data = latest.data;
  const last = data?.last;
  return (
    <div id="journal-verification">
      <p id="last-verification">
        {!data
          ? t('common.loading')
          : !last
            ? t('journal.neverVerified')
            : last.ok
              ? t('journal.lastVerifiedOk', {
                  when: when(last.finishedAt),
                  size: last.treeSize,
                  via: t(`journal.via.${last.via}`),
                })
              : t('journal.lastVerifiedBad', {
                  when: when(last.finishedAt),
                  code: last.problem?.code ?? '?',
                  index: last.problem?.index ?? '?',
                })}
      </p>
      {last && !last.ok ? <Notice severity="error" small description={t('journal.verifyBadAdvice')} /> : null}
      {canStart ? (
        <>
          <Button
            type="button"
            id="verify-all-button"
            priority="secondary"
            disabled={start.isPending || !!data?.running}
            onClick={() => start.mutate()}
          >
            {data?.running ? t('journal.verifyRunning') : t('journal.verifyAll')}
          </Button>
          <div aria-live="polite">{start.error ? <ErrorNotice error={start.error} /> : null}</div>
        </>
      ) : null}
    </div>
  );
}

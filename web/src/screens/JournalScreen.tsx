import { Alert as Notice } from '@codegouvfr/react-dsfr/Alert';
import { Button } from '@codegouvfr/react-dsfr/Button';
import { Input } from '@codegouvfr/react-dsfr/Input';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { get, isForbidden, parseCheckpoint } from '../api';
import { ErrorNotice } from '../ErrorNotice';
import { JournalVerification } from '../JournalVerification';
import { rootFromInclusion } from '../merkle';
import { verifyCheckpoint } from '../signed-note';

interface Inclusion {
  leafIndex: number;
  treeSize: number;
  eventId: string;
  leafHash: string;
  rootHash: string;
  hashes: string[];
}

/**
 * The latest signed checkpoint, the key that verifies it, and an inclusion proof looked up by
 * event id and checked here: the root recomputed from the path must equal the checkpoint's.
 */
export function JournalScreen() {
  const { t } = useTranslation();
  const [eventId, setEventId] = useState('');
  const checkpoint = useQuery({
    queryKey: ['journal', 'checkpoint'],
    queryFn: async () => parseCheckpoint(await get<string>('/api/v1/journal/checkpoint')),
  });
  const key = useQuery({
    queryKey: ['journal', 'key'],
    queryFn: () => get<{ name: string; verifierKey: string }>('/api/v1/journal/verifier-key'),
  });
  /** The latest checkpoint, its signature checked here against the verifier key. */
  const signed = async () => {
    const cp = parseCheckpoint(await get<string>('/api/v1/journal/checkpoint'));
    const vkey = await get<{ verifierKey: string }>('/api/v1/journal/verifier-key');
    return { cp, signature: await verifyCheckpoint(cp.note, vkey.verifierKey) };
  };
  const signature = useMutation({ mutationFn: signed });
  const verify = useMutation({
    mutationFn: async (id: string) => {
      // The proof is checked against a checkpoint whose signature verified, or not at all.
      const { cp, signature: sig } = await signed();
      if (!sig.ok) return { proof: undefined, ok: false };
      const proof = await get<Inclusion>(
        `/api/v1/journal/proof/inclusion?eventId=${encodeURIComponent(id)}&treeSize=${cp.size}`,
      );
      const root = await rootFromInclusion(proof.leafIndex, proof.treeSize, proof.leafHash, proof.hashes);
      return { proof, ok: root !== null && root === cp.rootHash && proof.treeSize === cp.size };
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (eventId.trim()) verify.mutate(eventId.trim());
  };

  if (checkpoint.error) {
    return (
      <>
        <h1>{t('journal.title')}</h1>
        {isForbidden(checkpoint.error) ? (
          <p>{t('overview.noJournal')}</p>
        ) : (
          <ErrorNotice error={checkpoint.error} />
        )}
      </>
    );
  }
  return (
    <>
      <h1>{t('journal.title')}</h1>
      <section aria-labelledby="cp-title" className="fr-mb-4w">
        <h2 id="cp-title" className="fr-h4">
          {t('journal.checkpoint')}
        </h2>
        {checkpoint.data ? (
          <dl>
            <dt>{t('journal.origin')}</dt>
            <dd className="vigie-mono">{checkpoint.data.origin}</dd>
            <dt>{t('journal.size')}</dt>
            <dd id="checkpoint-size">{checkpoint.data.size}</dd>
            <dt>{t('journal.root')}</dt>
            <dd className="vigie-mono">{checkpoint.data.rootHash}</dd>
            <dt>{t('journal.key')}</dt>
            <dd className="vigie-mono">{key.data ? key.data.verifierKey : t('common.loading')}</dd>
          </dl>
        ) : (
          <p>{t('common.loading')}</p>
        )}
        {key.error ? <ErrorNotice error={key.error} /> : null}
        <Button
          id="signature-button"
          priority="secondary"
          disabled={signature.isPending}
          onClick={() => signature.mutate()}
        >
          {t('journal.checkSignature')}
        </Button>
        <div aria-live="polite" id="signature-result" className="fr-mt-2w">
          {signature.error ? <ErrorNotice error={signature.error} /> : null}
          {signature.data ? (
            signature.data.signature.ok ? (
              <Notice
                severity="success"
                small
                description={t('journal.signatureOk', {
                  size: signature.data.cp.size,
                  name: signature.data.signature.name,
                })}
              />
            ) : (
              <Notice
                severity="error"
                small
                description={t('journal.signatureBad', { problem: signature.data.signature.problem })}
              />
            )
          ) : null}
        </div>
      </section>
      <section aria-labelledby="whole-title">
        <h2 id="whole-title" className="fr-h4">
          {t('journal.wholeTitle')}
        </h2>
        <JournalVerification canStart />
      </section>
      <section aria-labelledby="verify-title">
        <h2 id="verify-title" className="fr-h4">
          {t('journal.verify')}
        </h2>
        <form onSubmit={submit}>
          <Input
            label={t('journal.eventId')}
            nativeInputProps={{
              id: 'event-id',
              value: eventId,
              required: true,
              onChange: (e) => setEventId(e.target.value),
            }}
          />
          <Button type="submit" id="verify-button" disabled={verify.isPending}>
            {t('journal.lookup')}
          </Button>
        </form>
        <div aria-live="polite" id="verify-result" className="fr-mt-2w">
          {verify.error ? <ErrorNotice error={verify.error} /> : null}
          {verify.data ? (
            verify.data.ok && verify.data.proof ? (
              <Notice
                severity="success"
                small
                description={t('journal.verified', {
                  index: verify.data.proof.leafIndex,
                  size: verify.data.proof.treeSize,
                })}
              />
            ) : (
              <Notice severity="error" small description={t('journal.mismatch')} />
            )
          ) : null}
        </div>
      </section>
    </>
  );
}

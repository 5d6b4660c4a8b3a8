import { Alert } from '@codegouvfr/react-dsfr/Alert';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { ApiError } from './api';

/** Codes of the four-eyes refusals (src/modules/identity): each gets the rule explained. */
const FOUR_EYES = /^APPROVER_/;

/** Codes with a sentence of their own (i18n.more.ts, `errors`). */
const ACTIONABLE = {
  DELEGATION_QUOTA_EXCEEDED: true,
  EMAIL_TAKEN: true,
  INVALID_EMAIL: true,
  ORGANISATION_NOT_ACTIVE: true,
} as const;

/** What a person can do about an error, in their language, with the request id for support. */
export function errorText(t: TFunction, error: unknown): string {
  if (!(error instanceof ApiError)) return t('error.NETWORK');
  if (error.status === 401) return t('error.SIGNED_OUT');
  if (FOUR_EYES.test(error.code)) {
    // The rule in the person's language when the code is known, else the API's own sentence.
    const why = t(`error.fourEyesWhy.${error.code}`, { ...error.details, defaultValue: error.message });
    return t('error.FOUR_EYES', { message: why });
  }
  if (error.code === 'VALIDATION_FAILED' || error.status === 400)
    return t('error.VALIDATION', { message: error.message });
  for (const code of ['STEP_UP_REQUIRED', 'PERMISSION_DENIED', 'CSRF_ORIGIN_MISMATCH']) {
    if (error.code === code) return t(`error.${code}`);
  }
  // Refusals a person can act on, with the API's details (which quota, which limit).
  if (Object.hasOwn(ACTIONABLE, error.code)) return t(`errors.${error.code}`, { ...error.details });
  if (error.status === 404) return t('error.NOT_FOUND');
  return t('error.generic', { message: error.message, code: error.code });
}

export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const id = error instanceof ApiError ? error.requestId : null;
  return (
    <Alert
      severity="error"
      small
      role="alert"
      title={t('error.title')}
      description={
        <>
          {errorText(t, error)}
          {id ? <span className="fr-hint-text">{t('error.request', { id })}</span> : null}
        </>
      }
    />
  );
}

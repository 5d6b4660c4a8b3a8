import { useTranslation } from 'react-i18next';

/** Dates in the console's language (French dates in French), not the browser's default. */
export function useWhen(): (iso: string, dateOnly?: boolean) => string {
  const { i18n } = useTranslation();
  const locale = i18n.language === 'en' ? 'en-GB' : 'fr-FR';
  return (iso, dateOnly = false) =>
    dateOnly ? new Date(iso).toLocaleDateString(locale) : new Date(iso).toLocaleString(locale);
}

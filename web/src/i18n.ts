import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

/** French first: the console's people work in French public services; English for partners. */
const fr = {
  app: { title: 'Vigie', tagline: 'Console de sécurité', skip: 'Aller au contenu' },
  nav: { overview: 'Vue d’ensemble', journal: 'Journal', account: 'Mon compte', signOut: 'Se déconnecter' },
  lang: { switch: 'English', label: 'Switch to English' },
  common: {
    loading: 'Chargement…',
    none: 'Aucun',
    reason: 'Motif (obligatoire, 3 caractères au moins)',
    cancel: 'Annuler',
    confirm: 'Confirmer',
    back: 'Retour à la vue d’ensemble',
  },
  overview: {
    title: 'Vue d’ensemble de la sécurité',
    liveAlerts: 'Alertes en direct',
    live: 'Flux en direct : connecté',
    offline: 'Flux en direct : reconnexion…',
    noAlert: 'Aucune alerte ouverte.',
    bySeverity: 'Alertes ouvertes par gravité',
    journal: 'État du journal',
    journalSize: 'Événements journalisés',
    noAccess: 'Votre compte n’a pas accès aux alertes. Demandez le rôle d’analyste à votre administrateur.',
    noJournal: 'Votre compte n’a pas accès au journal.',
    open: 'Ouvrir',
  },
  alert: {
    title: 'Alerte',
    rule: 'Règle',
    severity: 'Gravité',
    status: 'Statut',
    entity: 'Entité visée',
    occurrences: 'Occurrences',
    first: 'Premier événement',
    last: 'Dernier événement',
    evidence: 'Preuves (événements du journal)',
    responses: 'Réponses déjà exécutées',
    actions: 'Réponses en un clic',
    suspend: 'Suspendre le compte',
    suspendLineage: 'Suspendre le compte et sa lignée',
    revoke: 'Révoquer ses sessions',
    reactivate: 'Réactiver le compte (annuler la suspension)',
    undo: 'Annuler',
    closeTrue: 'Clore : vrai positif',
    closeFalse: 'Clore : faux positif',
    acknowledge: 'Prendre en charge',
    done: 'Fait : {{what}}.',
    suspended_one: '{{count}} compte suspendu.',
    suspended_other: '{{count}} comptes suspendus.',
    stepUpNote:
      'Ces actes demandent une confirmation récente avec votre clé d’accès : Vigie vous la demandera puis vous ramènera ici.',
    notAccount: 'Cette alerte ne vise pas un compte : aucune réponse sur un compte n’est proposée.',
  },
  journal: {
    title: 'Journal inviolable',
    checkpoint: 'Dernier point de contrôle signé',
    origin: 'Origine',
    size: 'Taille de l’arbre',
    root: 'Racine',
    key: 'Clé de vérification',
    verify: 'Vérifier la preuve d’inclusion',
    eventId: 'Identifiant de l’événement',
    lookup: 'Chercher la preuve',
    verified:
      'Vérifié : l’événement n° {{index}} est inclus dans l’arbre de taille {{size}} (racine recalculée identique).',
    mismatch:
      'Échec : la racine recalculée ne correspond pas au point de contrôle. Signalez-le à l’équipe sécurité.',
  },
  me: {
    title: 'Mon compte',
    who: 'Connecté en tant que',
    sessions: 'Sessions actives',
    current: 'cette session',
    started: 'Ouverte le',
    method: 'Méthode',
    passkeys: 'Clés d’accès',
    manage: 'Gérer mes clés d’accès et codes de secours',
    everywhere: 'Se déconnecter partout',
    everywhereDone: 'Toutes vos sessions sont fermées.',
  },
  error: {
    title: 'L’action n’a pas abouti',
    generic: 'Vigie a répondu : {{message}} (code {{code}}).',
    request: 'Référence à donner au support : {{id}}',
    SIGNED_OUT: 'Votre session a expiré. Reconnectez-vous avec votre clé d’accès.',
    STEP_UP_REQUIRED: 'Cet acte demande de confirmer votre identité avec votre clé d’accès.',
    PERMISSION_DENIED: 'Votre compte n’a pas le droit de faire cet acte. Demandez-le à votre administrateur.',
    NOT_FOUND: 'Cet élément n’existe pas ou vous n’avez pas le droit de le voir.',
    CSRF_ORIGIN_MISMATCH: 'La requête ne vient pas de la console de Vigie : rechargez la page.',
    VALIDATION: 'Vérifiez le formulaire : {{message}}.',
    NETWORK: 'Vigie est injoignable. Vérifiez votre connexion puis réessayez.',
    FOUR_EYES:
      'Refusé par la règle des quatre yeux : {{message}}. Un autre administrateur, hors de la lignée du créateur, doit approuver.',
  },
};

const en: typeof fr = {
  app: { title: 'Vigie', tagline: 'Security console', skip: 'Skip to content' },
  nav: { overview: 'Overview', journal: 'Journal', account: 'My account', signOut: 'Sign out' },
  lang: { switch: 'Français', label: 'Passer en français' },
  common: {
    loading: 'Loading…',
    none: 'None',
    reason: 'Reason (required, at least 3 characters)',
    cancel: 'Cancel',
    confirm: 'Confirm',
    back: 'Back to the overview',
  },
  overview: {
    title: 'Security overview',
    liveAlerts: 'Live alerts',
    live: 'Live stream: connected',
    offline: 'Live stream: reconnecting…',
    noAlert: 'No open alert.',
    bySeverity: 'Open alerts by severity',
    journal: 'Journal status',
    journalSize: 'Events journaled',
    noAccess: 'Your account has no access to alerts. Ask your administrator for the analyst role.',
    noJournal: 'Your account has no access to the journal.',
    open: 'Open',
  },
  alert: {
    title: 'Alert',
    rule: 'Rule',
    severity: 'Severity',
    status: 'Status',
    entity: 'Target',
    occurrences: 'Occurrences',
    first: 'First event',
    last: 'Last event',
    evidence: 'Evidence (journal events)',
    responses: 'Responses already executed',
    actions: 'One-click responses',
    suspend: 'Suspend the account',
    suspendLineage: 'Suspend the account and its lineage',
    revoke: 'Revoke its sessions',
    reactivate: 'Reactivate the account (undo the suspension)',
    undo: 'Undo',
    closeTrue: 'Close: true positive',
    closeFalse: 'Close: false positive',
    acknowledge: 'Acknowledge',
    done: 'Done: {{what}}.',
    suspended_one: '{{count}} account suspended.',
    suspended_other: '{{count}} accounts suspended.',
    stepUpNote:
      'These acts need a recent confirmation with your passkey: Vigie will ask for it and bring you back here.',
    notAccount: 'This alert does not target an account: no account response is offered.',
  },
  journal: {
    title: 'Tamper-evident journal',
    checkpoint: 'Latest signed checkpoint',
    origin: 'Origin',
    size: 'Tree size',
    root: 'Root',
    key: 'Verifier key',
    verify: 'Verify an inclusion proof',
    eventId: 'Event id',
    lookup: 'Look up the proof',
    verified:
      'Verified: event #{{index}} is included in the tree of size {{size}} (recomputed root matches).',
    mismatch: 'Failed: the recomputed root does not match the checkpoint. Report it to the security team.',
  },
  me: {
    title: 'My account',
    who: 'Signed in as',
    sessions: 'Active sessions',
    current: 'this session',
    started: 'Started',
    method: 'Method',
    passkeys: 'Passkeys',
    manage: 'Manage my passkeys and recovery codes',
    everywhere: 'Sign out everywhere',
    everywhereDone: 'All your sessions are closed.',
  },
  error: {
    title: 'The action did not go through',
    generic: 'Vigie answered: {{message}} (code {{code}}).',
    request: 'Reference for support: {{id}}',
    SIGNED_OUT: 'Your session has expired. Sign in again with your passkey.',
    STEP_UP_REQUIRED: 'This act needs you to confirm your identity with your passkey.',
    PERMISSION_DENIED: 'Your account may not do this. Ask your administrator.',
    NOT_FOUND: 'This item does not exist or you may not see it.',
    CSRF_ORIGIN_MISMATCH: 'The request did not come from Vigie’s console: reload the page.',
    VALIDATION: 'Check the form: {{message}}.',
    NETWORK: 'Vigie cannot be reached. Check your connection and try again.',
    FOUR_EYES:
      'Refused by the four-eyes rule: {{message}}. Another administrator, outside the creator’s lineage, must approve.',
  },
};

export const LANG_KEY = 'vigie.console.lang';
const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(LANG_KEY);

void i18n.use(initReactI18next).init({
  resources: { fr: { translation: fr }, en: { translation: en } },
  lng: stored === 'en' ? 'en' : 'fr',
  fallbackLng: 'fr',
  interpolation: { escapeValue: false },
});

i18n.on('languageChanged', (lng) => {
  document.documentElement.lang = lng;
  localStorage.setItem(LANG_KEY, lng);
});
document.documentElement.lang = i18n.language;

export default i18n;

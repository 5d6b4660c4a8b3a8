import type { Contribution } from './risk.js';
import type { RuleDocument } from './rule.schema.js';

/*
 * What an alert says to the person who reads it (issue 12, item 5): why it fired (the rule and its
 * threshold, or the signals, their weights and the risk threshold), what Vigie did, and how to undo
 * it. French first, English second, as every page a person sees. Stored in the alert's summary
 * (`explanation`), so the API, the live stream and the forwarders carry it.
 */

export interface Bilingual {
  readonly fr: string;
  readonly en: string;
}

export interface Explanation {
  readonly why: Bilingual;
  readonly done: Bilingual;
  readonly undo: Bilingual;
}

function threshold(doc: RuleDocument): Bilingual | undefined {
  const c = doc.correlation;
  if (!c) return undefined;
  const [op, n] = Object.entries(c.condition)[0] ?? ['gte', 0];
  const sign = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=' }[op] ?? op;
  const what = c.field
    ? { fr: `valeurs distinctes de ${c.field}`, en: `distinct ${c.field} values` }
    : { fr: 'événements', en: 'events' };
  return {
    fr: `seuil : ${sign} ${n} ${what.fr} en ${c.timespan}`,
    en: `threshold: ${sign} ${n} ${what.en} within ${c.timespan}`,
  };
}

/** Why a rule's own alert fired: its title, its description and its threshold. */
export function whyRule(doc: RuleDocument, summary: Readonly<Record<string, unknown>>): Bilingual {
  const t = threshold(doc);
  const seen = typeof summary.count === 'number' ? summary.count : undefined;
  return {
    fr: `Règle ${doc.id} (confiance élevée, niveau ${doc.level}) : ${doc.title}.${t ? ` ${t.fr}.` : ''}${seen !== undefined ? ` Observé : ${seen}.` : ''}`,
    en: `Rule ${doc.id} (high confidence, level ${doc.level}): ${doc.title}.${t ? ` ${t.en}.` : ''}${seen !== undefined ? ` Seen: ${seen}.` : ''}`,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Why a risk alert fired: the signals that added up, their weights (decayed), and the threshold. */
export function whyRisk(
  entity: { type: string; id: string },
  score: number,
  alertAt: number,
  halfLifeMs: number,
  signals: readonly (Contribution & { now: number })[],
): Bilingual {
  const list = (lang: 'fr' | 'en') =>
    signals
      .map(
        (s) =>
          `${s.ruleId} +${round(s.weight)}${s.now < s.weight ? (lang === 'fr' ? ` (reste ${round(s.now)})` : ` (now ${round(s.now)})`) : ''}${s.factors.length ? ` [${s.factors.join(', ')}]` : ''}`,
      )
      .join('; ');
  const h = round(halfLifeMs / 3_600_000);
  return {
    fr: `Le risque de ${entity.type} ${entity.id} atteint ${round(score)} (seuil d'alerte ${alertAt}, les points perdent la moitié de leur poids toutes les ${h} h). Signaux : ${list('fr')}.`,
    en: `The risk of ${entity.type} ${entity.id} reached ${round(score)} (alert threshold ${alertAt}; points lose half their weight every ${h} h). Signals: ${list('en')}.`,
  };
}

/** Why a takeover alert fired: the credential half and the session half, and how close they were. */
export function whyTakeover(
  entity: { type: string; id: string },
  credential: Contribution,
  session: Contribution,
  withinMs: number,
): Bilingual {
  const gap = Math.round(Math.abs(session.timeMs - credential.timeMs) / 60_000);
  const w = round(withinMs / 60_000);
  return {
    fr: `Prise de contrôle de ${entity.type} ${entity.id} : ${credential.ruleId} (un identifiant inconnu de Vigie essayé pour ce compte) et ${session.ruleId} (sa session montrée depuis un autre réseau ou navigateur) à ${gap} min d'intervalle (fenêtre : ${w} min). Seul le détenteur du secret de session peut produire le second signal : le poste du titulaire est à examiner avant de réactiver le compte.`,
    en: `Takeover of ${entity.type} ${entity.id}: ${credential.ruleId} (a credential Vigie does not know tried for this account) and ${session.ruleId} (its session shown from another network or browser) ${gap} min apart (window: ${w} min). Only the holder of the session's secret can produce the second signal: the owner's workstation should be examined before the account is reactivated.`,
  };
}

/** The risk of several accounts of one organisation or application, which is evidence about it. */
export function whyGroup(
  entity: { type: string; id: string },
  accounts: readonly string[],
  needed: number,
  windowMs: number,
): Bilingual {
  const h = round(windowMs / 3_600_000);
  return {
    fr: `${accounts.length} comptes de ${entity.type} ${entity.id} ont atteint le seuil de risque en ${h} h (seuil : ${needed}) : ${accounts.join(', ')}. Une organisation ou une application n'est visée que sur des preuves qui la concernent, jamais pour un seul compte.`,
    en: `${accounts.length} accounts of ${entity.type} ${entity.id} reached the risk threshold within ${h} h (threshold: ${needed}): ${accounts.join(', ')}. An organisation or an application is acted on only on evidence about it, never for one account.`,
  };
}

const ACTION: Record<string, Bilingual> = {
  require_step_up: {
    fr: 'nouvelle authentification forte exigée au prochain acte sensible',
    en: 'a fresh strong authentication required on the next sensitive act',
  },
  revoke_tokens: {
    fr: 'sessions et jetons du compte terminés',
    en: "the account's sessions and tokens ended",
  },
  suspend_account: { fr: 'compte suspendu', en: 'account suspended' },
  suspend_lineage: {
    fr: 'compte et comptes créés par lui suspendus',
    en: 'account and the accounts it created suspended',
  },
  freeze_budgets: { fr: 'budgets gelés', en: 'budgets frozen' },
};

export interface DoneResponse {
  readonly id: string;
  readonly action: string;
  readonly target: { type: string; id: string };
  readonly status: string;
  readonly expiresAt?: string;
}

/** What was done (each response and its status) and how to undo it. */
export function explainResponses(done: readonly DoneResponse[]): { done: Bilingual; undo: Bilingual } {
  if (done.length === 0)
    return {
      done: { fr: 'Aucune réponse automatique.', en: 'No automatic response.' },
      undo: { fr: 'Rien à défaire.', en: 'Nothing to undo.' },
    };
  const line = (lang: 'fr' | 'en', r: DoneResponse) => {
    const what = ACTION[r.action]?.[lang] ?? r.action;
    const status =
      r.status === 'executed'
        ? ''
        : lang === 'fr'
          ? r.status === 'withheld'
            ? ' — retenue : une personne doit décider'
            : ` — ${r.status}`
          : r.status === 'withheld'
            ? ' — withheld: a person must decide'
            : ` — ${r.status}`;
    const until = r.expiresAt ? (lang === 'fr' ? ` jusqu'au ${r.expiresAt}` : ` until ${r.expiresAt}`) : '';
    return `${what} (${r.target.type} ${r.target.id})${until}${status}`;
  };
  const undoable = done.filter((r) => r.status === 'executed' && r.action !== 'revoke_tokens');
  return {
    done: {
      fr: `Fait : ${done.map((r) => line('fr', r)).join('; ')}.`,
      en: `Done: ${done.map((r) => line('en', r)).join('; ')}.`,
    },
    undo: undoable.length
      ? {
          fr: `Pour défaire : POST /api/v1/responses/{id}/undo avec une raison (droit response.execute), pour ${undoable.map((r) => r.id).join(', ')}. Un gel automatique expire seul ; les sessions terminées ne se rouvrent pas : la personne se reconnecte.`,
          en: `To undo: POST /api/v1/responses/{id}/undo with a reason (permission response.execute), for ${undoable.map((r) => r.id).join(', ')}. An automatic freeze expires on its own; ended sessions stay ended: the person signs in again.`,
        }
      : {
          fr: 'Rien à défaire : les sessions terminées ne se rouvrent pas, la personne se reconnecte.',
          en: 'Nothing to undo: ended sessions stay ended, the person signs in again.',
        },
  };
}

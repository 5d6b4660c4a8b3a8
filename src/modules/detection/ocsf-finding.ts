import type { Alert } from './alert.service.js';

/**
 * An alert as an OCSF 1.3 Detection Finding (class 2004, category 2 Findings), for SIEMs that speak
 * OCSF. ATT&CK tags become finding_info.attacks; evidence events become related_events.
 */
const SEVERITY_ID: Record<string, number> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };
const STATUS: Record<string, { id: number; name: string }> = {
  new: { id: 1, name: 'New' },
  acknowledged: { id: 2, name: 'In Progress' },
  closed_true_positive: { id: 4, name: 'Resolved' },
  closed_false_positive: { id: 4, name: 'Resolved' },
};

const TACTICS = new Set([
  'reconnaissance',
  'resource_development',
  'initial_access',
  'execution',
  'persistence',
  'privilege_escalation',
  'defense_evasion',
  'credential_access',
  'discovery',
  'lateral_movement',
  'collection',
  'command_and_control',
  'exfiltration',
  'impact',
]);

const title = (s: string) =>
  s
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');

export function toOcsfDetectionFinding(alert: Alert, productVersion = '0.1.0'): Record<string, unknown> {
  const techniques = alert.tags
    .map((t) => /^attack\.(t\d{4}(?:\.\d{3})?)$/.exec(t)?.[1])
    .filter((t): t is string => t !== undefined)
    .map((t) => t.toUpperCase());
  const tactics = alert.tags
    .map((t) => /^attack\.([a-z_]+)$/.exec(t)?.[1])
    .filter((t): t is string => t !== undefined && TACTICS.has(t));
  const status = STATUS[alert.status] ?? STATUS.new!;
  const ms = (iso: string) => Date.parse(iso);
  const activityId = alert.status === 'new' ? 1 : alert.status.startsWith('closed') ? 3 : 2;
  return {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: activityId,
    activity_name: activityId === 1 ? 'Create' : activityId === 2 ? 'Update' : 'Close',
    type_uid: 2004 * 100 + activityId,
    time: ms(alert.updatedAt),
    severity_id: SEVERITY_ID[alert.severity] ?? 0,
    severity: title(alert.severity),
    status_id: status.id,
    status: status.name,
    ...(alert.status.startsWith('closed')
      ? { status_detail: alert.status === 'closed_true_positive' ? 'True Positive' : 'False Positive' }
      : {}),
    message: alert.title,
    metadata: {
      version: '1.3.0',
      uid: alert.id,
      product: { name: 'Vigie', vendor_name: 'Vigie', version: productVersion },
      correlation_uid: alert.raisedEventId,
    },
    finding_info: {
      uid: alert.id,
      title: alert.title,
      created_time: ms(alert.createdAt),
      first_seen_time: ms(alert.firstEventAt),
      last_seen_time: ms(alert.lastEventAt),
      analytic: { uid: alert.ruleId, name: alert.ruleId, type_id: 1, type: 'Rule' },
      attacks: techniques.map((uid) => ({
        version: '15',
        technique: { uid },
        ...(tactics[0] ? { tactic: { name: title(tactics[0]) } } : {}),
      })),
      related_events: alert.evidence.map((e) => ({ uid: e.eventId })),
      types: alert.tags,
    },
    resources: [{ type: alert.entity.type, uid: alert.entity.id }],
    count: alert.occurrences,
    unmapped: { summary: alert.summary, organisation_id: alert.organisationId },
  };
}

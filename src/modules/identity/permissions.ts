/**
 * What each built-in role may do through Vigie's own API. Least privilege: an agent administers
 * nothing; an account manager administers accounts of its own subtree only; reading the journal,
 * alerts and the privileged inventory is for the security team and auditors.
 */
export const PERMISSIONS = [
  'organisation.read',
  'organisation.manage',
  'account.read',
  'account.create',
  'account.approve',
  'account.suspend',
  'account.reactivate',
  'role.read',
  'role.grant',
  'role.manage',
  'lineage.read',
  'lineage.suspend',
  'inventory.read',
  'caseload.read',
  'caseload.manage',
  'application.read',
  'application.manage',
  'token.manage',
  'journal.read',
  'event.read',
  'policy.read',
  'policy.manage',
  'alert.read',
  'alert.update',
  'rule.read',
  'rule.manage',
  'response.execute',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export interface BuiltinRole {
  readonly id: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
  readonly privileged: boolean;
  readonly delegable: boolean;
}

const SECURITY_READ: readonly Permission[] = [
  'organisation.read',
  'account.read',
  'role.read',
  'lineage.read',
  'inventory.read',
  'application.read',
  'journal.read',
  'event.read',
  'policy.read',
  'alert.read',
  'rule.read',
];

export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    id: 'agent',
    description:
      'Advisor: reads and updates the records of the people its structure follows, in business applications',
    permissions: [],
    privileged: false,
    delegable: true,
  },
  {
    id: 'account_manager',
    description: 'Delegated account administrator (RGC): manages colleagues accounts within its structure',
    permissions: [
      'organisation.read',
      'account.read',
      'account.create',
      'account.suspend',
      'role.read',
      'role.grant',
      'lineage.read',
      'caseload.read',
    ],
    // It can reactivate a contained account and tune the rules that would catch it: granting it
    // takes four-eyes, and its holders belong in the privileged inventory.
    privileged: true,
    delegable: false,
  },
  {
    id: 'account_approver',
    description: 'Second pair of eyes: approves accounts and privileged grants created by account managers',
    permissions: ['organisation.read', 'account.read', 'account.approve', 'role.read', 'lineage.read'],
    privileged: true,
    delegable: false,
  },
  {
    id: 'security_analyst',
    description: 'Security team: investigates alerts, contains abuse, tunes rules',
    permissions: [
      ...SECURITY_READ,
      'alert.update',
      'rule.manage',
      'response.execute',
      'account.suspend',
      'lineage.suspend',
      'account.reactivate',
      'caseload.read',
    ],
    privileged: true,
    delegable: false,
  },
  {
    id: 'auditor',
    description: 'Reads the journal, the inventory and the alerts; changes nothing',
    permissions: SECURITY_READ,
    privileged: false,
    delegable: false,
  },
  {
    id: 'platform_admin',
    description: 'Operator administrator: everything, under four-eyes for privileged grants',
    permissions: PERMISSIONS,
    privileged: true,
    delegable: false,
  },
];

/** Scopes an application (service principal) may hold. */
export const APPLICATION_SCOPES = ['pdp.evaluate', 'event.ingest', 'pdp.search'] as const;
export type ApplicationScope = (typeof APPLICATION_SCOPES)[number];

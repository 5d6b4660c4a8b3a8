import type { Migration } from 'kysely/migration';
import * as foundation from './0001_foundation.js';
import * as journal from './0002_journal.js';
import * as access from './0003_access.js';
import * as caseload from './0003_caseload.js';
import * as detection from './0004_detection.js';
import * as trustBoundaries from './0005_trust_boundaries.js';
import * as signIn from './0006_sign_in.js';
import * as totp from './0007_totp.js';
import * as oidcProvider from './0008_oidc_provider.js';
import * as federation from './0010_federation.js';
import * as stepUpRecovery from './0011_step_up_recovery.js';
import * as eventsHotPath from './0012_events_hot_path.js';
import * as riskObservations from './0013_risk_observations.js';
import * as federatedRevocation from './0014_federated_identity_revocation.js';
import * as journalVerifications from './0015_journal_verifications.js';

/**
 * Every migration, in order. Explicit imports rather than a folder scan, so the same list works from
 * source (tests) and from the compiled build. Each module adds its own file here.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_journal': journal,
  '0003_access': access,
  '0003_caseload': caseload,
  '0004_detection': detection,
  '0005_trust_boundaries': trustBoundaries,
  '0006_sign_in': signIn,
  '0007_totp': totp,
  '0008_oidc_provider': oidcProvider,
  '0010_federation': federation,
  '0011_step_up_recovery': stepUpRecovery,
  '0012_events_hot_path': eventsHotPath,
  '0013_risk_observations': riskObservations,
  '0014_federated_identity_revocation': federatedRevocation,
  '0015_journal_verifications': journalVerifications,
};

import { VigieError } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { runCommand, type CommandDeps } from '../events/command.js';
import type { AccessService } from './access.service.js';
import type { CompiledPolicy } from './policy.compiler.js';
import { loadPolicyDir } from './policy.store.js';
import { PolicyError } from './policy.types.js';

export interface PolicySummary {
  readonly name: string;
  readonly version: string;
  readonly files: readonly string[];
  readonly rules: number;
  readonly loadedAt: string | null;
}

export function summarisePolicy(policy: CompiledPolicy, loadedAt: string | undefined): PolicySummary {
  return {
    name: policy.name,
    version: policy.version,
    files: policy.files,
    rules: policy.ruleCount,
    loadedAt: loadedAt ?? null,
  };
}

/**
 * Reloads the policy directory: compiles the new files completely, journals `policy.reloaded` with
 * the old and new versions, then swaps the active policy. An invalid policy is refused (400
 * POLICY_INVALID with file and line), journaled as `policy.reload_refused`, and the old one stays.
 */
export async function reloadPolicy(
  deps: CommandDeps,
  access: AccessService,
  actor: Actor,
): Promise<PolicySummary & { previousVersion: string }> {
  const previousVersion = access.policy.version;
  const by = eventActorOf(actor);
  let next: CompiledPolicy | undefined;
  let problem: VigieError | undefined;
  try {
    next = await loadPolicyDir(access.store.dir);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    problem = new VigieError('POLICY_INVALID', 400, `the policy is invalid: ${error.problem}`.slice(0, 300), {
      file: error.file,
      line: error.line,
    });
  }
  await runCommand(
    deps,
    ({ emit }) => {
      if (problem) return Promise.reject(problem);
      emit({
        kind: 'policy.reloaded',
        actor: by,
        target: { type: 'policy', id: next!.name.slice(0, 200) },
        outcome: 'success',
        data: { version: next!.version, previousVersion, files: next!.files, rules: next!.ruleCount },
      });
      return Promise.resolve();
    },
    (error) => ({
      kind: 'policy.reload_refused',
      actor: by,
      target: { type: 'policy', id: access.policy.name.slice(0, 200) },
      outcome: 'failure',
      reason: error.code,
      data: { ...(error.details ?? {}), activeVersion: previousVersion },
    }),
  );
  access.installPolicy(next!);
  return { ...summarisePolicy(next!, access.store.loadedAt), previousVersion };
}

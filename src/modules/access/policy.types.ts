/**
 * The shapes of Vigie's access policies: as parsed from YAML (`PolicyDocument`, every node remembering
 * its line) and as compiled into closures (`CompiledPolicy`) that the PDP runs.
 */

/** Where a node came from, so that every validation error points at a line. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

export type Operand =
  { readonly kind: 'path'; readonly path: string } | { readonly kind: 'literal'; readonly value: unknown };

export type ConditionNode =
  | { readonly op: 'fact'; readonly name: string; readonly at: SourceRef }
  | { readonly op: 'not'; readonly arg: ConditionNode; readonly at: SourceRef }
  | { readonly op: 'all' | 'any'; readonly args: readonly ConditionNode[]; readonly at: SourceRef }
  | {
      readonly op: 'eq' | 'ne' | 'in' | 'lt' | 'lte' | 'gt' | 'gte';
      readonly left: Operand;
      readonly right: Operand;
      readonly at: SourceRef;
    }
  | { readonly op: 'present'; readonly operand: Operand; readonly at: SourceRef }
  | { readonly op: 'has_role'; readonly roles: readonly string[]; readonly at: SourceRef }
  | { readonly op: 'hour_between'; readonly from: number; readonly to: number; readonly at: SourceRef };

export type Effect = 'allow' | 'deny' | 'obligate';

/** An obligation the enforcement point must carry out, e.g. `{type:'mask', fields:['nir']}`. */
export interface Obligation {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface RuleNode {
  readonly id: string;
  readonly effect: Effect;
  /** Action names the rule applies to; empty means every action. */
  readonly actions: readonly string[];
  readonly subjectTypes: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly when: readonly ConditionNode[];
  readonly unless: readonly ConditionNode[];
  /** Public reason code returned to the caller (for deny rules); never the rule id. */
  readonly reason: string | undefined;
  readonly obligations: readonly Obligation[];
  /** `break_glass` marks a disclosure to be flagged for review and counted against the daily cap. */
  readonly breakGlass: boolean;
  readonly at: SourceRef;
}

export interface Threshold {
  readonly soft: number;
  readonly hard: number;
}

export interface BudgetsNode {
  readonly windowMinutes: number;
  readonly countedActions: readonly string[];
  /** What a hard threshold does: deny outright, or deny asking for a step-up authentication. */
  readonly onHard: 'deny' | 'step_up';
  readonly account: {
    readonly default: Threshold;
    readonly byRole: ReadonlyArray<readonly [string, Threshold]>;
    readonly recentlyApproved: (Threshold & { readonly hours: number }) | undefined;
  };
  readonly organisation: {
    readonly default: Threshold;
    readonly byKind: ReadonlyMap<string, Threshold>;
  };
  readonly application: {
    readonly default: Threshold;
    readonly byKind: ReadonlyMap<string, Threshold>;
  };
  /** Exports of more records than this need a four-eyes approval token. */
  readonly exportFourEyesAbove: number | undefined;
}

export interface BreakGlassNode {
  readonly capPerDay: number;
}

/** A static entity declared in the policy (test scenarios, demos): attributes by name. */
export interface DirectoryEntity {
  readonly type: string;
  readonly id: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly name: string;
  readonly timezone: string;
  readonly actions: readonly string[];
  readonly entities: readonly DirectoryEntity[];
  readonly rules: readonly RuleNode[];
  readonly budgets: BudgetsNode | undefined;
  readonly breakGlass: BreakGlassNode | undefined;
}

export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'PolicyError';
  }
}

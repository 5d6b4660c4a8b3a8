import type { Command } from 'commander';
import { parseConfig } from '../config.js';
import { loadPolicyDir } from '../modules/access/policy.store.js';
import { runPolicyTests } from '../modules/access/policy.testing.js';
import { PolicyError } from '../modules/access/policy.types.js';

export interface PolicyIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function reportPolicyError(error: unknown, io: PolicyIo, command: string): number {
  if (error instanceof PolicyError) {
    io.stderr.write(`vigie policy ${command}: ${error.file}:${error.line}: ${error.problem}\n`);
    return 1;
  }
  throw error;
}

/** `vigie policy validate [DIR]`: parses and compiles the policy files; prints the version or the first error with its line. */
export async function runPolicyValidate(dir: string, io: PolicyIo): Promise<number> {
  try {
    const policy = await loadPolicyDir(dir);
    io.stdout.write(
      `${policy.name}: ${policy.ruleCount} rules in ${policy.files.join(', ')}\nversion ${policy.version}\n`,
    );
    return 0;
  } catch (error) {
    return reportPolicyError(error, io, 'validate');
  }
}

/**
 * `vigie policy test DIR`: runs the cases of DIR/tests/*.yaml against the policy in DIR; exits 1 on
 * any failing case, printing expected and actual decision, reasons and obligations.
 */
export async function runPolicyTest(dir: string, io: PolicyIo): Promise<number> {
  try {
    const { policy, results } = await runPolicyTests(dir);
    let failed = 0;
    for (const r of results) {
      if (r.passed) {
        io.stdout.write(`ok    ${r.file}: ${r.name}\n`);
        continue;
      }
      failed++;
      io.stdout.write(
        `FAIL  ${r.file}: ${r.name}\n      expected ${JSON.stringify(r.expected)}\n      actual   ${JSON.stringify(r.actual)}\n`,
      );
    }
    io.stdout.write(`${results.length - failed}/${results.length} cases pass (policy ${policy.version})\n`);
    if (results.length === 0) io.stderr.write(`vigie policy test: no case found in ${dir}/tests/*.yaml\n`);
    return failed === 0 && results.length > 0 ? 0 : 1;
  } catch (error) {
    return reportPolicyError(error, io, 'test');
  }
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('validate and test access policies');
  policy
    .command('validate')
    .argument('[dir]', 'policy directory (default: VIGIE_POLICY_DIR or ./policies)')
    .description('check the policy files and print their version')
    .action(async (dir?: string) => {
      process.exitCode = await runPolicyValidate(dir ?? parseConfig().policyDir, process);
    });
  policy
    .command('test')
    .argument('<dir>', 'policy directory, with its test cases in <dir>/tests/*.yaml')
    .description('run policy test cases: request → expected decision, reasons and obligations')
    .action(async (dir: string) => {
      process.exitCode = await runPolicyTest(dir, process);
    });
}

import fs from 'node:fs';
import type { Command } from 'commander';
import { parseConfig } from '../config.js';
import { EntityDirectory } from '../modules/detection/entity.directory.js';
import { GeoLocator } from '../modules/detection/geo.locator.js';
import { loadRuleDirectory, RuleSetError } from '../modules/detection/rule.loader.js';
import { importSigma, rulesToYaml, SigmaImportError } from '../modules/detection/sigma.importer.js';

/**
 * `vigie rules validate [dir]`: compiles every rule of a directory, as the server would at start, and
 * lists each problem (exit code 1 when there is one).
 * `vigie rules import-sigma <file> [-o out.yaml]`: validates Sigma rules against the Sigma JSON
 * Schemas, translates the supported subset into Vigie rules and prints them (or writes them).
 * Neither touches the database.
 */
export function registerRuleCommands(program: Command): void {
  const rules = program.command('rules').description('validate detection rules and import Sigma rules');
  const env = () => ({ directory: new EntityDirectory(), geo: new GeoLocator() });

  rules
    .command('validate')
    .argument('[dir]', 'rules directory (default: VIGIE_RULES_DIR or ./rules)')
    .description('check every rule of a directory; exit 1 when one is refused')
    .action((given: string | undefined) => {
      const dir = given ?? parseConfig().rulesDir;
      try {
        const loaded = loadRuleDirectory(dir, env());
        process.stdout.write(`${loaded.length} rule(s) valid in ${dir}\n`);
      } catch (error) {
        if (!(error instanceof RuleSetError)) throw error;
        for (const p of error.problems)
          process.stderr.write(`${p.file}${p.rule ? ` ${p.rule}` : ''}: ${p.message}\n`);
        process.exitCode = 1;
      }
    });

  rules
    .command('import-sigma')
    .argument('<file>', 'Sigma rule file (YAML, one or more documents)')
    .option('-o, --output <file>', 'write the Vigie rules to this file instead of stdout')
    .description('translate Sigma detection and correlation rules into Vigie rules')
    .action((file: string, options: { output?: string }) => {
      try {
        const yaml = rulesToYaml(importSigma(fs.readFileSync(file, 'utf8'), env()));
        if (options.output) fs.writeFileSync(options.output, yaml);
        else process.stdout.write(yaml);
      } catch (error) {
        if (!(error instanceof SigmaImportError)) throw error;
        for (const p of error.problems) process.stderr.write(`${p}\n`);
        process.exitCode = 1;
      }
    });
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { compilePolicy, type CompiledPolicy, type PolicySource } from './policy.compiler.js';
import { PolicyError } from './policy.types.js';

const MAX_POLICY_BYTES = 1024 * 1024;

/** Reads every `*.yaml`/`*.yml` file directly in `dir` (tests live in `dir/tests/`, not loaded). */
export async function readPolicySources(dir: string): Promise<PolicySource[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    throw new PolicyError(dir, 1, 'policy directory not found or not readable');
  }
  const sources: PolicySource[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file);
    if (!stat.isFile()) continue;
    if (stat.size > MAX_POLICY_BYTES) throw new PolicyError(name, 1, 'policy file is larger than 1 MiB');
    sources.push({ file: name, text: await fs.readFile(file, 'utf8') });
  }
  return sources;
}

export async function loadPolicyDir(dir: string): Promise<CompiledPolicy> {
  return compilePolicy(await readPolicySources(dir));
}

/**
 * The active policy. Reload compiles the new files completely before swapping one reference, so a
 * decision sees either the old policy or the new one, never a mix; an invalid file leaves the old
 * policy active and reports the file and line.
 */
export class PolicyStore {
  #current: CompiledPolicy | undefined;
  #loadedAt: string | undefined;

  constructor(readonly dir: string) {}

  get current(): CompiledPolicy {
    if (!this.#current) throw new Error('policy not loaded');
    return this.#current;
  }

  get loaded(): boolean {
    return this.#current !== undefined;
  }

  get loadedAt(): string | undefined {
    return this.#loadedAt;
  }

  async reload(nowIso: string): Promise<{ previous: string | undefined; current: CompiledPolicy }> {
    const next = await loadPolicyDir(this.dir);
    const previous = this.#current?.version;
    this.#current = next;
    this.#loadedAt = nowIso;
    return { previous, current: next };
  }

  /** Installs an already compiled policy (for embedding and benchmarks). */
  use(policy: CompiledPolicy, nowIso: string): void {
    this.#current = policy;
    this.#loadedAt = nowIso;
  }
}

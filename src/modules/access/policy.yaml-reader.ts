import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { PolicyError, type SourceRef } from './policy.types.js';

/**
 * A thin reader over the YAML syntax tree that keeps line numbers, so that a policy author is told
 * "policies/default.yaml:42: …" rather than "invalid policy". Every accessor throws PolicyError.
 */
export class YamlReader {
  readonly #lines: LineCounter;
  constructor(
    readonly file: string,
    lines: LineCounter,
  ) {
    this.#lines = lines;
  }

  static parse(file: string, text: string): { reader: YamlReader; root: Node } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const first = doc.errors[0];
    if (first) {
      const line = Math.max(1, lines.linePos(first.pos[0]).line);
      throw new PolicyError(file, line, `YAML syntax: ${first.code.toLowerCase().replaceAll('_', ' ')}`);
    }
    const reader = new YamlReader(file, lines);
    if (!doc.contents) throw new PolicyError(file, 1, 'the file is empty');
    return { reader, root: doc.contents };
  }

  at(node: Node | null | undefined): SourceRef {
    const offset = node?.range?.[0] ?? 0;
    return { file: this.file, line: Math.max(1, this.#lines.linePos(offset).line) };
  }

  fail(node: Node | null | undefined, problem: string): never {
    throw new PolicyError(this.file, this.at(node).line, problem);
  }

  map(node: Node | null | undefined, what: string, allowed?: readonly string[]): YAMLMap<Node, Node> {
    if (!isMap(node)) this.fail(node, `${what} must be a mapping`);
    const m = node as YAMLMap<Node, Node>;
    if (allowed) {
      for (const pair of m.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!allowed.includes(key)) {
          this.fail(
            pair.key,
            `unknown key "${key.slice(0, 60)}" in ${what} (allowed: ${allowed.join(', ')})`,
          );
        }
      }
    }
    return m;
  }

  keys(map: YAMLMap<Node, Node>): Array<{ key: string; keyNode: Node; value: Node | null }> {
    return map.items.map((p) => ({
      key: isScalar(p.key) ? String(p.key.value) : this.fail(p.key, 'keys must be plain strings'),
      keyNode: p.key,
      value: p.value,
    }));
  }

  get(map: YAMLMap<Node, Node>, key: string): Node | null | undefined {
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return undefined;
    return pair.value ?? null;
  }

  require(map: YAMLMap<Node, Node>, key: string, what: string): Node {
    const value = this.get(map, key);
    if (value === undefined || value === null) this.fail(map, `${what} needs "${key}"`);
    return value;
  }

  seq(node: Node | null | undefined, what: string): Node[] {
    if (!isSeq(node)) this.fail(node, `${what} must be a list`);
    return node.items as Node[];
  }

  /** A list, or a single scalar taken as a one-element list. */
  seqOrOne(node: Node | null | undefined, what: string): Node[] {
    if (isScalar(node)) return [node];
    return this.seq(node, what);
  }

  string(node: Node | null | undefined, what: string, pattern?: RegExp): string {
    if (!isScalar(node) || typeof node.value !== 'string') this.fail(node, `${what} must be a string`);
    const value = node.value;
    if (value.length === 0 || value.length > 200) this.fail(node, `${what} must be 1 to 200 characters`);
    if (pattern && !pattern.test(value))
      this.fail(node, `${what} "${value.slice(0, 60)}" is not well formed`);
    return value;
  }

  integer(node: Node | null | undefined, what: string, min: number, max: number): number {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
      this.fail(node, `${what} must be a whole number`);
    }
    const value = node.value;
    if (value < min || value > max) this.fail(node, `${what} must be between ${min} and ${max}`);
    return value;
  }

  boolean(node: Node | null | undefined, what: string): boolean {
    if (!isScalar(node) || typeof node.value !== 'boolean') this.fail(node, `${what} must be true or false`);
    return node.value;
  }

  /** Plain JSON-like value of a node (for literals, obligations, entity attributes). */
  plain(node: Node | null | undefined, depth = 0): unknown {
    if (depth > 8) this.fail(node, 'value is nested too deeply');
    if (node === null || node === undefined) return null;
    if (isScalar(node)) return node.value;
    if (isSeq(node)) return (node.items as Node[]).map((n) => this.plain(n, depth + 1));
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const { key, value } of this.keys(node as YAMLMap<Node, Node>)) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
          this.fail(node, `key "${key}" is not allowed`);
        }
        out[key] = this.plain(value, depth + 1);
      }
      return out;
    }
    return this.fail(node, 'aliases and tags are not supported');
  }
}

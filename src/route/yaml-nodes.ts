import { isScalar, type Node, type Pair, type YAMLMap } from 'yaml';

// Helpers over `yaml` document nodes, kept apart from config.ts so that the config parser reads as the config's
// sections and nothing else.

export type Fail = (line: number, message: string) => void;

export function isPairNode(node: unknown): node is Pair {
  return typeof node === 'object' && node !== null && 'key' in node && 'value' in node;
}

/** A number counts: YAML reads an unquoted 3128 as one, where the config wants the text. */
export function scalarString(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const value = node.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The keys of a mapping, each checked against the allowed ones. */
export function mapEntries(map: YAMLMap, allowed: string[], what: string, fail: Fail, lineOf: (node: Node | Pair) => number): Map<string, Pair<unknown, Node | null>> {
  const entries = new Map<string, Pair<unknown, Node | null>>();
  for (const pair of map.items as Array<Pair<unknown, Node | null>>) {
    const key = scalarString(pair.key);
    const line = lineOf((pair.key as Node | null) ?? pair);
    if (key === undefined || !allowed.includes(key)) {
      const suggestion = key === undefined ? undefined : allowed.find((a) => distance(a, key.toLowerCase().replace(/-/g, '_')) <= 2);
      fail(line, `unknown ${what} ${JSON.stringify(key ?? null)}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known: ${allowed.join(', ')}`);
      continue;
    }
    entries.set(key, pair);
  }
  return entries;
}

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

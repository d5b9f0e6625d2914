// Small helpers both benchmarks use: settings from the environment, statistics and table formatting.

export function parseBytes(text: string | undefined, fallback: number, name: string): number {
  if (!text) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`${name}: cannot read "${text}" (bytes, or a number with K, M or G)`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * unit);
}

export function parseCount(text: string | undefined, fallback: number, name: string): number {
  if (!text) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got "${text}"`);
  return n;
}

export function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (values: number[]): number | undefined => quantile(values, 0.5);
export const round = (n: number | undefined, digits = 1): number | undefined => (n === undefined || !Number.isFinite(n) ? undefined : Number(n.toFixed(digits)));
export const fmt = (n: number | undefined, digits = 1): string => (n === undefined ? '—' : n.toFixed(digits));
export const pad = (text: string, width: number, right = false): string => (right ? text.padStart(width) : text.padEnd(width));

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? Number((a / b).toFixed(3)) : undefined;
}

/** Runs a benchmark's main(): its exit code, or 1 with the stack when it throws. */
export function runBench(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    },
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

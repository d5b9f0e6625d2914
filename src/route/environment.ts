// Which proxy variables are set, in burrow's order of precedence, and what is suspicious about them.
// Precedence (DESIGN.md): BURROW_PROXY, then HTTPS_PROXY, ALL_PROXY, HTTP_PROXY. For each name the upper-case
// variable wins over the lower-case one, and an empty value counts as unset, as in Go's httpproxy (getEnvAny),
// which is what tsh uses (REFERENCE.md §1). curl and Python prefer lower case: when the two differ we warn,
// because those tools and burrow would then take different proxies.

export type Environment = Readonly<Record<string, string | undefined>>;

export const PROXY_VARIABLES = ['BURROW_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'HTTP_PROXY'] as const;

export interface EnvironmentValue {
  /** The variable that supplied the value, as spelled in the environment (e.g. "https_proxy"). */
  name: string;
  value: string;
}

export interface EnvironmentReading {
  proxy: EnvironmentValue | undefined;
  noProxy: EnvironmentValue | undefined;
  warnings: string[];
}

export function readVariable(env: Environment, upper: string, warnings: string[]): EnvironmentValue | undefined {
  const lower = upper.toLowerCase();
  const upperValue = env[upper] ?? '';
  const lowerValue = env[lower] ?? '';
  if (upperValue !== '' && lowerValue !== '' && upperValue.trim() !== lowerValue.trim()) {
    warnings.push(
      `${upper} and ${lower} are both set and differ; burrow (like Go and tsh) uses ${upper}, curl and Python use ${lower}`,
    );
  }
  if (upperValue !== '') return { name: upper, value: upperValue };
  if (lowerValue !== '') return { name: lower, value: lowerValue };
  return undefined;
}

export function readEnvironment(env: Environment): EnvironmentReading {
  const warnings: string[] = [];
  let proxy: EnvironmentValue | undefined;
  for (const name of PROXY_VARIABLES) {
    const found = readVariable(env, name, warnings);
    if (found && !proxy) proxy = found;
  }
  const noProxy = readVariable(env, 'NO_PROXY', warnings);
  return { proxy, noProxy, warnings };
}

/** The proxy URLs one variable names: BURROW_PROXY a chain (comma-separated, empty entries dropped), others one. */
export function proxyTexts(variable: EnvironmentValue): string[] {
  const { name, value } = variable;
  return name.toUpperCase() === 'BURROW_PROXY' ? value.split(',').filter((t) => t.trim() !== '') : [value];
}

export interface ProxyVariableTexts {
  /** The variable, as spelled in the environment (e.g. "https_proxy"). */
  name: string;
  /** The proxy URLs it names: BURROW_PROXY may name a chain (comma-separated, first hop first); the others one. */
  texts: string[];
}

/**
 * The proxy variables that are set, in burrow's order of precedence, each with the URL texts it names (empty
 * entries of BURROW_PROXY's list dropped; the list may end up empty). For each name the upper-case variable wins,
 * as in readEnvironment; with `everySpelling`, both spellings that are set are listed (upper case first), for
 * callers that must know every proxy a child could be given (secrets).
 */
export function configuredProxyTexts(env: Environment, options: { everySpelling?: boolean } = {}): ProxyVariableTexts[] {
  const out: ProxyVariableTexts[] = [];
  const add = (name: string, value: string) => out.push({ name, texts: proxyTexts({ name, value }) });
  for (const upper of PROXY_VARIABLES) {
    if (options.everySpelling) {
      for (const name of [upper, upper.toLowerCase()]) {
        const value = env[name];
        if (value) add(name, value);
      }
      continue;
    }
    const found = readVariable(env, upper, []);
    if (found) add(found.name, found.value);
  }
  return out;
}

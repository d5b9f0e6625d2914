import { withPlanCredentials } from '../../credentials/config.ts';
import { clockTime, orderAlternatives, type OrderedAlternative } from '../../dial/dead-proxies.ts';
import { formatHops } from '../../route/proxy-url.ts';
import { planToJson, sourceText, type RoutePlan } from '../../route/plan.ts';
import { resolveRoute } from '../../route/policy.ts';
import { formatTarget, makeTarget } from '../../route/target.ts';
import { routeOptionsFrom, type CommandContext } from '../options.ts';

const unordered = (plan: RoutePlan): OrderedAlternative[] => plan.alternatives.map((alternative) => ({ alternative }));

/**
 * `burrow route --json` (planToJson, DESIGN.md's contract) with the alternatives in the order dial() will try them:
 * one remembered as failed goes last and carries `remembered_failed: {at, said}`.
 */
export function orderedPlanToJson(plan: RoutePlan, ordered: OrderedAlternative[] = unordered(plan)): object {
  const json = planToJson({ ...plan, alternatives: ordered.map((o) => o.alternative) });
  return {
    ...json,
    plan: json.plan.map((entry, i) => {
      const { failedAt, said } = ordered[i]!;
      return failedAt === undefined ? entry : { ...entry, remembered_failed: { at: new Date(failedAt).toISOString(), said } };
    }),
  };
}

export function planToText(plan: RoutePlan, ordered: OrderedAlternative[] = unordered(plan)): string {
  const lines = [`target   ${formatTarget(plan.target)}`];
  ordered.forEach(({ alternative, failedAt, said }, index) => {
    const label = plan.alternatives.length > 1 ? `route ${index + 1}` : 'route';
    const hops = formatHops(alternative.hops);
    lines.push(`${label.padEnd(8)} ${hops}   (from ${sourceText(alternative.source)})`);
    lines.push(`why      ${alternative.reason}`);
    if (alternative.rule) lines.push(`rule     ${alternative.rule.file}:${alternative.rule.line}${alternative.rule.rule === 'default' ? ' (default)' : ` (rule ${alternative.rule.rule})`}`);
    if (failedAt !== undefined) lines.push(`memory   remembered as failed at ${clockTime(failedAt)} (${said ?? 'failed'}): tried last; --fresh ignores this`);
    if (alternative.pac && index === 0) lines.push(`pac      FindProxyForURL("${alternative.pac.url}") = "${alternative.pac.answer.trim()}"`);
  });
  for (const warning of plan.warnings) lines.push(`warning  ${warning}`);
  return `${lines.join('\n')}\n`;
}

export async function runRoute(host: string, port: string, json: boolean, context: CommandContext): Promise<number> {
  const routeOptions = routeOptionsFrom(context.values, process.env);
  // With the config file's credentials looked up, so that a missing variable or netrc entry shows as a warning.
  const plan = withPlanCredentials(await resolveRoute(makeTarget(host, port), routeOptions), routeOptions.env);
  // The order dial() will use: what earlier runs remembered (dial/dead-proxies.ts) decides it, not route.
  const ordered = orderAlternatives(plan, process.env, context.values.fresh === true);
  process.stdout.write(json ? `${JSON.stringify(orderedPlanToJson(plan, ordered), null, 2)}\n` : planToText(plan, ordered)); // stdout-ok: route's report
  return 0;
}

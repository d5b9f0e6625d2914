import { withPlanCredentials } from '../../credentials/config.ts';
import { formatHops } from '../../route/proxy-url.ts';
import { planToJson, sourceText, type RoutePlan } from '../../route/plan.ts';
import { resolveRoute } from '../../route/policy.ts';
import { formatTarget, makeTarget } from '../../route/target.ts';
import { routeOptionsFrom, type CommandContext } from '../options.ts';

export function planToText(plan: RoutePlan): string {
  const lines = [`target   ${formatTarget(plan.target)}`];
  plan.alternatives.forEach((alternative, index) => {
    const label = plan.alternatives.length > 1 ? `route ${index + 1}` : 'route';
    const hops = formatHops(alternative.hops);
    lines.push(`${label.padEnd(8)} ${hops}   (from ${sourceText(alternative.source)})`);
    lines.push(`why      ${alternative.reason}`);
    if (alternative.rule) lines.push(`rule     ${alternative.rule.file}:${alternative.rule.line}${alternative.rule.rule === 'default' ? ' (default)' : ` (rule ${alternative.rule.rule})`}`);
    if (alternative.pac && index === 0) lines.push(`pac      FindProxyForURL("${alternative.pac.url}") = "${alternative.pac.answer.trim()}"`);
  });
  for (const warning of plan.warnings) lines.push(`warning  ${warning}`);
  return `${lines.join('\n')}\n`;
}

export async function runRoute(host: string, port: string, json: boolean, context: CommandContext): Promise<number> {
  const routeOptions = routeOptionsFrom(context.values, process.env);
  // With the config file's credentials looked up, so that a missing variable or netrc entry shows as a warning.
  const plan = withPlanCredentials(await resolveRoute(makeTarget(host, port), routeOptions), routeOptions.env);
  process.stdout.write(json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : planToText(plan)); // stdout-ok: route's report
  return 0;
}

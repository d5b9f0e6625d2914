import { displayProxy } from '../../route/proxy-url.ts';
import type { RoutePlan } from '../../route/plan.ts';
import { resolveRoute } from '../../route/resolve.ts';
import { formatTarget, makeTarget } from '../../route/target.ts';
import { routeOptionsFrom } from '../options.ts';
import type { CommandContext } from '../yargs-cli.ts';

/** The JSON contract of `burrow route --json` (DESIGN.md): proxies without credentials, first hop first. */
export function planToJson(plan: RoutePlan): object {
  return {
    target: formatTarget(plan.target),
    plan: plan.alternatives.map((alternative) => ({
      hops: alternative.hops.map(displayProxy),
      source: alternative.source,
      reason: alternative.reason,
    })),
    warnings: plan.warnings,
  };
}

export function planToText(plan: RoutePlan): string {
  const lines = [`target   ${formatTarget(plan.target)}`];
  plan.alternatives.forEach((alternative, index) => {
    const label = plan.alternatives.length > 1 ? `route ${index + 1}` : 'route';
    const hops = alternative.hops.length ? alternative.hops.map(displayProxy).join(' -> ') : 'direct';
    lines.push(`${label.padEnd(8)} ${hops}   (from ${alternative.source})`);
    lines.push(`why      ${alternative.reason}`);
  });
  for (const warning of plan.warnings) lines.push(`warning  ${warning}`);
  return `${lines.join('\n')}\n`;
}

export async function runRoute(host: string, port: string, json: boolean, context: CommandContext): Promise<number> {
  const plan = resolveRoute(makeTarget(host, port), routeOptionsFrom(context.values, process.env));
  process.stdout.write(json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : planToText(plan)); // stdout-ok: route's report
  return 0;
}

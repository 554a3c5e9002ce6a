import { getOrgUsage, listBudgets, type OrgUsage, type UsageGroupBy, type UsagePeriod } from "../../api/usage";
import { useApiQuery } from "../../api/use-api-query";
import { QueryView } from "../../components/query-view";
import { BudgetManager } from "./budget-editor";
import { periodPhrase } from "../../lib/usage";
import { UsageTable, UsageTotalsList } from "./usage-table";

const GROUP_NAMES: Record<UsageGroupBy, { header: string; missing: string }> = {
  user: { header: "Member", missing: "(no user)" },
  assistant: { header: "Assistant", missing: "(deleted assistant)" },
};

function OrgUsageTable({ usage }: { usage: OrgUsage }) {
  const names = GROUP_NAMES[usage.group_by];
  if (usage.groups.length === 0) return <p className="muted">No model calls {periodPhrase(usage.period)}.</p>;
  return (
    <UsageTable
      label={`Organisation usage by ${usage.group_by}`}
      nameHeader={names.header}
      rows={usage.groups.map((group) => ({ ...group, key: group.key || "none", name: group.label || names.missing }))}
    />
  );
}

/** The org's usage by member and by assistant, and its budgets to manage: for those who manage the org. */
export function OrgUsageSection({ orgSlug, period }: { orgSlug: string; period: UsagePeriod }) {
  const byUser = useApiQuery(`usage-org:${orgSlug}:${period}:user`, (signal) => getOrgUsage(orgSlug, period, "user", signal));
  const byAssistant = useApiQuery(`usage-org:${orgSlug}:${period}:assistant`, (signal) => getOrgUsage(orgSlug, period, "assistant", signal));
  const budgets = useApiQuery(`budgets:${orgSlug}`, (signal) => listBudgets(orgSlug, signal), { keepDataOnReload: true });

  return (
    <section className="stack" aria-labelledby="org-usage-title" data-testid="org-usage">
      <h2 id="org-usage-title">The organisation's usage</h2>
      <QueryView query={byUser} loadingLabel="Loading the organisation's usage…">
        {(usage) => (
          <>
            <UsageTotalsList label="Organisation totals" totals={usage.totals} />
            <h3>By member</h3>
            <OrgUsageTable usage={usage} />
          </>
        )}
      </QueryView>
      <h3>By assistant</h3>
      <QueryView query={byAssistant} loadingLabel="Loading usage by assistant…">
        {(usage) => <OrgUsageTable usage={usage} />}
      </QueryView>
      <h3>Budgets</h3>
      <QueryView query={budgets} loadingLabel="Loading budgets…">
        {(list) => <BudgetManager orgSlug={orgSlug} budgets={list} onChanged={budgets.reload} />}
      </QueryView>
    </section>
  );
}

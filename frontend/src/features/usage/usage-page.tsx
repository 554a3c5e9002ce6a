import { useState } from "react";
import { getMyUsage, type MyUsage, type UsagePeriod } from "../../api/usage";
import { useApiQuery } from "../../api/use-api-query";
import { QueryView } from "../../components/query-view";
import { EmptyState } from "../../components/ui/empty-state";
import { SelectField } from "../../components/ui/select-field";
import { formatDate } from "../../lib/format-date";
import { assistantUsageName, periodPhrase } from "../../lib/usage";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";
import { BudgetStatusList } from "./budget-list";
import { OrgUsageSection } from "./org-usage-section";
import { UsageTable, UsageTotalsList } from "./usage-table";

const PERIOD_OPTIONS: { value: UsagePeriod; label: string }[] = [
  { value: "month", label: "This month (UTC)" },
  { value: "day", label: "Today (UTC)" },
];

/**
 * `/o/:slug/usage`: every member's own model usage for the current day or month and the budgets
 * that apply to them; those who manage the org also see the org's usage by user and by assistant,
 * and its budgets.
 */
export function UsagePage() {
  const membership = useCurrentMembership();
  const { org } = membership;
  const [period, setPeriod] = useState<UsagePeriod>("month");
  const mine = useApiQuery(`usage-me:${org.slug}:${period}`, (signal) => getMyUsage(org.slug, period, signal));

  return (
    <section className="page" aria-labelledby="usage-title">
      <title>{`Usage · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="usage-title" className="page__title">
          Usage
        </h1>
        <p className="muted">Tokens the models used for you (by model and by assistant), what they cost, and the budgets that limit them.</p>
      </header>
      <div className="usage-period">
        <SelectField label="Period" value={period} options={PERIOD_OPTIONS} onChange={setPeriod} />
      </div>
      <QueryView query={mine} loadingLabel="Loading your usage…">
        {(usage) => <MyUsageView usage={usage} />}
      </QueryView>
      {can(membership, "manage_org") ? <OrgUsageSection orgSlug={org.slug} period={period} /> : null}
    </section>
  );
}

function MyUsageView({ usage }: { usage: MyUsage }) {
  const when = periodPhrase(usage.period);
  return (
    <>
      <section className="stack" aria-labelledby="my-usage-title">
        <h2 id="my-usage-title">Your usage</h2>
        <p className="muted">
          Since <time dateTime={usage.since}>{formatDate(usage.since, undefined, "UTC")}</time> (UTC).
        </p>
        {usage.totals.calls === 0 ? (
          <EmptyState title={`No model calls ${when}`}>
            <p>Chat with an assistant and what its models use for you will show up here.</p>
          </EmptyState>
        ) : (
          <>
            <UsageTotalsList label="Your totals" totals={usage.totals} />
            <UsageTable
              label="Your usage by model"
              nameHeader="Model"
              rows={usage.by_model.map((row) => ({ ...row, key: row.model, name: row.model }))}
            />
            <UsageTable
              label="Your usage by assistant"
              nameHeader="Assistant"
              rows={usage.by_assistant.map((row) => ({ ...row, key: row.assistant_id ?? "none", name: assistantUsageName(row) }))}
            />
          </>
        )}
      </section>
      <section className="stack" aria-labelledby="my-budgets-title">
        <h2 id="my-budgets-title">Budgets that apply to you</h2>
        {usage.budgets.length === 0 ? (
          <p className="muted">No budget limits your usage in this organisation.</p>
        ) : (
          <BudgetStatusList budgets={usage.budgets} />
        )}
      </section>
    </>
  );
}

import { useRef, useState } from "react";
import { toApiError } from "../../api/errors";
import { deleteBudget, listMembers, setBudget, type Budget, type BudgetMetric, type UsagePeriod } from "../../api/usage";
import { useApiQuery } from "../../api/use-api-query";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { SelectField } from "../../components/ui/select-field";
import { TextField } from "../../components/ui/text-field";
import { formatMetric, periodName } from "../../lib/usage";

const ORG_WIDE = "org";
const PERIODS: { value: UsagePeriod; label: string }[] = [
  { value: "month", label: "Month (UTC)" },
  { value: "day", label: "Day (UTC)" },
];
const METRICS: { value: BudgetMetric; label: string }[] = [
  { value: "tokens", label: "Tokens (input + output)" },
  { value: "cost", label: "Cost" },
];

interface Draft {
  /** A member's user id, or ORG_WIDE. */
  appliesTo: string;
  period: UsagePeriod;
  metric: BudgetMetric;
  limit: string;
}

const EMPTY: Draft = { appliesTo: ORG_WIDE, period: "month", metric: "tokens", limit: "" };

function appliesToName(budget: Budget): string {
  return budget.user_id === null ? "Whole organisation" : budget.user_email || `User ${String(budget.user_id)}`;
}

/**
 * The org's budgets as its admins manage them: each can be changed or deleted, and the form sets a
 * new one. A budget is one per (org or member, period, metric), so saving one that exists changes its
 * limit. The server checks everything; its refusals are shown where the admin acted.
 */
export function BudgetManager({ orgSlug, budgets, onChanged }: { orgSlug: string; budgets: Budget[]; onChanged: () => void }) {
  const members = useApiQuery(`members:${orgSlug}`, (signal) => listMembers(orgSlug, signal));
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);

  async function act(work: () => Promise<unknown>, message: string) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await work();
      setDone(message);
      onChanged();
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setBusy(false);
    }
  }

  function save() {
    if (draft.limit.trim() === "") {
      setError("Enter a limit.");
      return;
    }
    const budget = {
      user_id: draft.appliesTo === ORG_WIDE ? null : Number(draft.appliesTo),
      period: draft.period,
      metric: draft.metric,
      limit: draft.limit.trim(),
    };
    void act(async () => {
      await setBudget(orgSlug, budget);
      setDraft(EMPTY);
    }, "Budget saved.");
  }

  function edit(budget: Budget) {
    setDraft({ appliesTo: budget.user_id === null ? ORG_WIDE : String(budget.user_id), period: budget.period, metric: budget.metric, limit: String(budget.limit) });
    setError(null);
    setDone(null);
    form.current?.querySelector<HTMLInputElement>("input")?.focus();
  }

  const memberOptions = members.status === "success" ? members.data.map((m) => ({ value: String(m.user.id), label: m.user.email })) : [];
  // A budget being changed may name a member the list has not loaded (yet): keep it choosable.
  if (draft.appliesTo !== ORG_WIDE && !memberOptions.some((option) => option.value === draft.appliesTo)) {
    const named = budgets.find((budget) => String(budget.user_id) === draft.appliesTo);
    memberOptions.push({ value: draft.appliesTo, label: named ? appliesToName(named) : `User ${draft.appliesTo}` });
  }

  return (
    <div className="stack">
      {budgets.length === 0 ? (
        <p className="muted">No budgets: the organisation's usage is not limited.</p>
      ) : (
        <div className="usage-table">
          <table aria-label="Organisation budgets">
            <thead>
              <tr>
                <th scope="col">Applies to</th>
                <th scope="col">Period</th>
                <th scope="col">On</th>
                <th scope="col" className="usage-table__figure">
                  Limit
                </th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {budgets.map((budget) => {
                const name = `${periodName(budget.period).toLowerCase()} ${budget.metric} budget of ${appliesToName(budget)}`;
                return (
                  <tr key={budget.id}>
                    <th scope="row">{appliesToName(budget)}</th>
                    <td>{periodName(budget.period)}</td>
                    <td>{budget.metric === "tokens" ? "Tokens" : "Cost"}</td>
                    <td className="usage-table__figure">{formatMetric(budget.metric, budget.limit)}</td>
                    <td className="budget-actions">
                      <Button variant="ghost" disabled={busy} aria-label={`Change the ${name}`} onClick={() => { edit(budget); }}>
                        Change
                      </Button>
                      <Button
                        variant="danger"
                        disabled={busy}
                        aria-label={`Delete the ${name}`}
                        onClick={() => void act(() => deleteBudget(orgSlug, budget.id), "Budget deleted.")}
                      >
                        Delete
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <form
        ref={form}
        className="stack budget-form"
        aria-label="Set a budget"
        onSubmit={(event) => {
          event.preventDefault();
          save();
        }}
      >
        <h4>Set a budget</h4>
        <p className="muted">New runs are refused, and running ones stop, once a budget's period has spent its limit. Setting a budget that exists changes its limit.</p>
        <TextField
          label="Limit"
          inputMode="decimal"
          value={draft.limit}
          disabled={busy}
          onChange={(event) => {
            setDraft({ ...draft, limit: event.target.value });
          }}
        />
        <SelectField
          label="Applies to"
          value={draft.appliesTo}
          disabled={busy}
          options={[{ value: ORG_WIDE, label: "Whole organisation" }, ...memberOptions]}
          onChange={(appliesTo) => { setDraft({ ...draft, appliesTo }); }}
        />
        <SelectField label="Budget period" value={draft.period} disabled={busy} options={PERIODS} onChange={(period) => { setDraft({ ...draft, period }); }} />
        <SelectField label="Limits" value={draft.metric} disabled={busy} options={METRICS} onChange={(metric) => { setDraft({ ...draft, metric }); }} />
        {members.status === "error" ? <p className="muted">The members could not be loaded: only the whole organisation can be chosen.</p> : null}
        {error ? <Alert>{error}</Alert> : null}
        {done ? <p role="status">{done}</p> : null}
        <div>
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? "Saving…" : "Save budget"}
          </Button>
        </div>
      </form>
    </div>
  );
}

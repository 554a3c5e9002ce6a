import type { BudgetStatus } from "../../api/usage";
import { Badge } from "../../components/ui/badge";
import { budgetLeft, budgetPercent, formatMetric, periodName } from "../../lib/usage";

function scopeName(scope: BudgetStatus["scope"]): string {
  return scope === "user" ? "Your budget" : "Organisation budget";
}

/** The budgets that apply to the member: each with its limit, and what is spent and left when shown. */
export function BudgetStatusList({ budgets }: { budgets: BudgetStatus[] }) {
  return (
    <ul className="budget-list" aria-label="Your budgets">
      {budgets.map((budget) => {
        const left = budgetLeft(budget);
        const percent = budgetPercent(budget);
        const title = `${periodName(budget.period)} ${budget.metric === "tokens" ? "token" : "cost"} budget`;
        return (
          <li key={budget.id} className="budget-list__item" data-testid="budget-status">
            <div className="budget-list__header">
              <strong>{title}</strong>
              <span className="muted">{scopeName(budget.scope)}</span>
              {budget.exceeded ? <Badge tone="strong">Spent</Badge> : null}
            </div>
            <p>
              Limit {formatMetric(budget.metric, budget.limit)}
              {budget.spent !== null && left !== null ? (
                <>
                  {" "}
                  · spent {formatMetric(budget.metric, budget.spent)} · left {formatMetric(budget.metric, left)}
                </>
              ) : null}
            </p>
            {percent !== null ? <meter className="budget-list__meter" min={0} max={100} value={percent} aria-label={`${title} spent`} /> : null}
            {budget.spent === null ? (
              <p className="muted">{budget.exceeded ? "The organisation has used this budget up." : "Only admins see how much of it the organisation has used."}</p>
            ) : null}
            {budget.exceeded ? <p className="field__error">New runs are refused until the period ends or an admin raises the budget.</p> : null}
          </li>
        );
      })}
    </ul>
  );
}

import type { Budget, BudgetStatus } from "../../api/usage";
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

/** Every budget of the organisation, as its admins set them. */
export function OrgBudgetTable({ budgets }: { budgets: Budget[] }) {
  return (
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
          </tr>
        </thead>
        <tbody>
          {budgets.map((budget) => (
            <tr key={budget.id}>
              <th scope="row">{budget.user_id === null ? "Whole organisation" : budget.user_email || `User ${String(budget.user_id)}`}</th>
              <td>{periodName(budget.period)}</td>
              <td>{budget.metric === "tokens" ? "Tokens" : "Cost"}</td>
              <td className="usage-table__figure">{formatMetric(budget.metric, budget.limit)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

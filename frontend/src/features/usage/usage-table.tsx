import type { UsageTotals } from "../../api/usage";
import { formatCost, formatTokens } from "../../lib/usage";

/** The columns every usage figure has, in the order the tables show them. */
const COLUMNS: { key: keyof UsageTotals; label: string; format: (totals: UsageTotals) => string }[] = [
  { key: "calls", label: "Calls", format: (t) => formatTokens(t.calls) },
  { key: "input_tokens", label: "Input tokens", format: (t) => formatTokens(t.input_tokens) },
  { key: "cached_input_tokens", label: "Cached input tokens", format: (t) => formatTokens(t.cached_input_tokens) },
  { key: "output_tokens", label: "Output tokens", format: (t) => formatTokens(t.output_tokens) },
  { key: "total_tokens", label: "Total tokens", format: (t) => formatTokens(t.total_tokens) },
  { key: "cost", label: "Cost", format: (t) => formatCost(t.cost) },
];

/** One period's totals as labelled figures; each figure carries `data-testid="usage-<key>"`. */
export function UsageTotalsList({ label, totals }: { label: string; totals: UsageTotals }) {
  return (
    <dl className="usage-totals" aria-label={label}>
      {COLUMNS.map((column) => (
        <div key={column.key} className="usage-totals__item">
          <dt className="muted">{column.label}</dt>
          <dd data-testid={`usage-${column.key}`}>{column.format(totals)}</dd>
        </div>
      ))}
    </dl>
  );
}

export interface UsageRow extends UsageTotals {
  key: string;
  name: string;
}

/** Usage broken down by model, user or assistant: one row each, named in the first column. */
export function UsageTable({ label, nameHeader, rows }: { label: string; nameHeader: string; rows: UsageRow[] }) {
  return (
    <div className="usage-table">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">{nameHeader}</th>
            {COLUMNS.map((column) => (
              <th key={column.key} scope="col" className="usage-table__figure">
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.name}</th>
              {COLUMNS.map((column) => (
                <td key={column.key} className="usage-table__figure">
                  {column.format(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

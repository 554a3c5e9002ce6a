import type { ReactNode } from "react";
import { Button } from "../../components/ui/button";

interface RowsEditorProps<T> {
  /** Names the list for assistive technology, e.g. "Egress rules". */
  label: string;
  /** The add button's text, e.g. "Add egress rule"; each row's remove button names the row after it. */
  addLabel: string;
  rows: readonly T[];
  empty: string;
  disabled: boolean;
  blank: () => T;
  onChange: (rows: T[]) => void;
  /** Renders one row's inputs; `update` merges a change into that row. */
  children: (row: T, update: (patch: Partial<T>) => void, index: number) => ReactNode;
}

/** An editable list of small records (egress rules, PII rules, connected APIs): add, edit, remove. */
export function RowsEditor<T>({ label, addLabel, rows, empty, disabled, blank, onChange, children }: RowsEditorProps<T>) {
  return (
    <div className="rows-editor">
      {rows.length === 0 ? <p className="muted">{empty}</p> : null}
      <ul className="rows-editor__list" aria-label={label}>
        {rows.map((row, index) => (
          <li key={index} className="rows-editor__row">
            {children(
              row,
              (patch) => {
                onChange(rows.map((current, i) => (i === index ? { ...current, ...patch } : current)));
              },
              index,
            )}
            <Button
              variant="ghost"
              disabled={disabled}
              aria-label={`Remove ${addLabel.replace(/^Add /, "")} ${String(index + 1)}`}
              onClick={() => {
                onChange(rows.filter((_, i) => i !== index));
              }}
            >
              Remove
            </Button>
          </li>
        ))}
      </ul>
      <div>
        <Button
          disabled={disabled}
          onClick={() => {
            onChange([...rows, blank()]);
          }}
        >
          {addLabel}
        </Button>
      </div>
    </div>
  );
}

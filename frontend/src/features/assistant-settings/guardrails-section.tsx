import { SelectField } from "../../components/ui/select-field";
import { TextAreaField } from "../../components/ui/text-area-field";
import { TextField } from "../../components/ui/text-field";
import { PII_STRATEGIES, type PiiRuleDraft } from "../../lib/assistant-settings";
import { RowsEditor } from "./rows-editor";
import { Section, type SectionProps } from "./section";

const STRATEGY_OPTIONS = PII_STRATEGIES.map((strategy) => ({ value: strategy, label: strategy }));

/** PII rules and the tools that wait for a person's approval (`interrupt_on`). */
export function GuardrailsSection({ draft, disabled, onChange }: SectionProps) {
  return (
    <Section
      title="Guardrails"
      description="Personal data rules rewrite or block matching text; built-in types are email, credit_card, ip, mac_address and url, any other needs a pattern."
    >
      <RowsEditor<PiiRuleDraft>
        label="PII rules"
        addLabel="Add PII rule"
        rows={draft.piiRules}
        empty="No personal data rules."
        disabled={disabled}
        blank={() => ({ type: "email", strategy: "redact", pattern: "" })}
        onChange={(piiRules) => {
          onChange({ piiRules });
        }}
      >
        {(rule, update) => (
          <div className="settings-grid">
            <TextField label="Type" value={rule.type} disabled={disabled} onChange={(event) => { update({ type: event.target.value }); }} />
            <SelectField label="Strategy" value={rule.strategy} options={STRATEGY_OPTIONS} disabled={disabled} onChange={(strategy) => { update({ strategy }); }} />
            <TextField label="Pattern" placeholder="Built-in" value={rule.pattern} disabled={disabled} onChange={(event) => { update({ pattern: event.target.value }); }} />
          </div>
        )}
      </RowsEditor>
      <TextAreaField
        label="Tools that need approval"
        hint="One tool name per line, e.g. write_file. Each call waits for a person to approve, edit or reject it."
        rows={3}
        value={draft.interruptOn}
        disabled={disabled}
        onChange={(event) => {
          onChange({ interruptOn: event.target.value });
        }}
      />
    </Section>
  );
}

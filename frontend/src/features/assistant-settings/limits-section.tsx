import { TextField } from "../../components/ui/text-field";
import type { LimitKey } from "../../lib/assistant-settings";
import { Section, type SectionProps } from "./section";

const LABELS: Record<LimitKey, string> = {
  model_call_limit_per_run: "Model calls per run",
  model_call_limit_per_thread: "Model calls per conversation",
  tool_call_limit_per_run: "Tool calls per run",
  tool_call_limit_per_thread: "Tool calls per conversation",
};

export function LimitsSection({ draft, disabled, onChange }: SectionProps) {
  return (
    <Section title="Limits" description="A run that reaches a limit ends with a message saying so. Leave a field empty for no limit.">
      <div className="settings-grid">
        {(Object.keys(LABELS) as LimitKey[]).map((key) => (
          <TextField
            key={key}
            label={LABELS[key]}
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="No limit"
            value={draft.limits[key]}
            disabled={disabled}
            onChange={(event) => {
              onChange({ limits: { ...draft.limits, [key]: event.target.value } });
            }}
          />
        ))}
      </div>
    </Section>
  );
}

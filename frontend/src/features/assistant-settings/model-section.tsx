import { TextAreaField } from "../../components/ui/text-area-field";
import { TextField } from "../../components/ui/text-field";
import { Section, type SectionProps } from "./section";

export function ModelSection({ draft, disabled, onChange }: SectionProps) {
  return (
    <Section title="Model and prompt" description="Models are named provider:model, e.g. openai:gpt-4.1, or offline for the built-in offline model.">
      <TextField
        label="Model"
        required
        value={draft.model}
        disabled={disabled}
        onChange={(event) => {
          onChange({ model: event.target.value });
        }}
      />
      <TextField
        label="Fallback model"
        placeholder="None"
        value={draft.fallbackModel}
        disabled={disabled}
        onChange={(event) => {
          onChange({ fallbackModel: event.target.value });
        }}
      />
      <TextAreaField
        label="System prompt"
        hint="Leave empty to use the agent's built-in prompt."
        rows={8}
        value={draft.systemPrompt}
        disabled={disabled}
        onChange={(event) => {
          onChange({ systemPrompt: event.target.value });
        }}
      />
    </Section>
  );
}

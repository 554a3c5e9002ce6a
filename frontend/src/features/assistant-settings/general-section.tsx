import { TextAreaField } from "../../components/ui/text-area-field";
import { TextField } from "../../components/ui/text-field";
import { Section, type SectionProps } from "./section";

export function GeneralSection({ draft, disabled, onChange }: SectionProps) {
  return (
    <Section title="General">
      <TextField
        label="Name"
        required
        maxLength={200}
        value={draft.name}
        disabled={disabled}
        onChange={(event) => {
          onChange({ name: event.target.value });
        }}
      />
      <TextAreaField
        label="Description"
        rows={2}
        value={draft.description}
        disabled={disabled}
        onChange={(event) => {
          onChange({ description: event.target.value });
        }}
      />
    </Section>
  );
}

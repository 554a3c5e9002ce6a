import type { ReactNode } from "react";
import type { SettingsDraft } from "../../lib/assistant-settings";

/** What every section of the settings form receives: the draft and a way to change part of it. */
export interface SectionProps {
  draft: SettingsDraft;
  disabled: boolean;
  onChange: (patch: Partial<SettingsDraft>) => void;
}

/** One titled group of the settings form. */
export function Section({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <fieldset className="settings-section">
      <legend className="settings-section__title">{title}</legend>
      {description ? <p className="muted settings-section__description">{description}</p> : null}
      <div className="stack">{children}</div>
    </fieldset>
  );
}

import { useState } from "react";
import { updateAssistant } from "../../api/assistants";
import { toApiError } from "../../api/errors";
import type { AssistantDetail } from "../../api/types";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { draftFromAssistant, patchFromDraft, type SettingsDraft } from "../../lib/assistant-settings";
import { ConnectedApisSection } from "./connected-apis-section";
import { GeneralSection } from "./general-section";
import { GuardrailsSection } from "./guardrails-section";
import { LimitsSection } from "./limits-section";
import { McpServersSection, type McpServerChoices } from "./mcp-servers-section";
import { ModelSection } from "./model-section";
import { SandboxSection, type AllowedHosts } from "./sandbox-section";

interface SettingsFormProps {
  orgSlug: string;
  assistant: AssistantDetail;
  allowed: AllowedHosts;
  mcpServers: McpServerChoices;
  onSaved: (assistant: AssistantDetail) => void;
}

/**
 * The assistant's settings as one form, saved as a new version with one PATCH. A refusal (a
 * policy violation, an invalid value) is shown next to the Save button with the server's own
 * words, and everything typed stays as it was, to correct and save again.
 */
export function SettingsForm({ orgSlug, assistant, allowed, mcpServers, onSaved }: SettingsFormProps) {
  const [draft, setDraft] = useState<SettingsDraft>(() => draftFromAssistant(assistant));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);

  function change(patch: Partial<SettingsDraft>) {
    setDraft((current) => ({ ...current, ...patch }));
    setSavedVersion(null);
  }

  async function submit() {
    setSaving(true);
    setError(null);
    try {
      const saved = await updateAssistant(orgSlug, assistant.id, patchFromDraft(assistant, draft));
      setDraft(draftFromAssistant(saved));
      setSavedVersion(saved.version);
      onSaved(saved);
    } catch (caught) {
      setError(toApiError(caught).message);
    } finally {
      setSaving(false);
    }
  }

  const sectionProps = { draft, disabled: saving, onChange: change };
  return (
    <form
      className="settings-form"
      aria-label="Assistant settings"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <GeneralSection {...sectionProps} />
      <ModelSection {...sectionProps} />
      <LimitsSection {...sectionProps} />
      <GuardrailsSection {...sectionProps} />
      <SandboxSection {...sectionProps} allowed={allowed} />
      <ConnectedApisSection {...sectionProps} />
      <McpServersSection {...sectionProps} choices={mcpServers} />
      <div className="settings-form__footer">
        {error ? (
          <div data-testid="settings-error">
            <Alert>
              <strong>Not saved.</strong> {error}
            </Alert>
          </div>
        ) : null}
        {savedVersion !== null ? <p role="status">Saved as version {savedVersion}.</p> : null}
        <div>
          <Button type="submit" variant="primary" disabled={saving}>
            {saving ? "Saving…" : "Save settings"}
          </Button>
        </div>
      </div>
    </form>
  );
}

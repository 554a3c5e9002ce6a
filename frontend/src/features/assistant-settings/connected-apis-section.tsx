import { TextField } from "../../components/ui/text-field";
import type { ConnectedApiDraft } from "../../lib/assistant-settings";
import { RowsEditor } from "./rows-editor";
import { Section, type SectionProps } from "./section";

/** Outside APIs the agent may call as the user, each through one of the org's OAuth providers. */
export function ConnectedApisSection({ draft, disabled, onChange }: SectionProps) {
  return (
    <Section
      title="Connected APIs"
      description="The agent calls these as the user who chats; the provider is an OAuth provider of the organisation, and the base URL must be one it allows."
    >
      <RowsEditor<ConnectedApiDraft>
        label="Connected APIs"
        addLabel="Add connected API"
        rows={draft.connectedApis}
        empty="No connected APIs."
        disabled={disabled}
        blank={() => ({ name: "", provider: "", base_url: "https://", scopes: "" })}
        onChange={(connectedApis) => {
          onChange({ connectedApis });
        }}
      >
        {(api, update) => (
          <div className="settings-grid">
            <TextField label="Name" value={api.name} disabled={disabled} onChange={(event) => { update({ name: event.target.value }); }} />
            <TextField label="Provider" value={api.provider} disabled={disabled} onChange={(event) => { update({ provider: event.target.value }); }} />
            <TextField label="Base URL" type="url" value={api.base_url} disabled={disabled} onChange={(event) => { update({ base_url: event.target.value }); }} />
            <TextField label="Scopes" placeholder="space separated" value={api.scopes} disabled={disabled} onChange={(event) => { update({ scopes: event.target.value }); }} />
          </div>
        )}
      </RowsEditor>
    </Section>
  );
}

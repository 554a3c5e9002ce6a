import { useId } from "react";
import { SelectField } from "../../components/ui/select-field";
import { TextField } from "../../components/ui/text-field";
import { hostsOutsidePolicy, type EgressRuleDraft, type SandboxMode } from "../../lib/assistant-settings";
import { RowsEditor } from "./rows-editor";
import { Section, type SectionProps } from "./section";

const MODE_OPTIONS: { value: SandboxMode; label: string }[] = [
  { value: "off", label: "Off: no code execution" },
  { value: "thread", label: "One sandbox per conversation" },
  { value: "assistant", label: "One sandbox shared by all conversations" },
];

/** The org's approved egress hosts, or why they could not be loaded. */
export type AllowedHosts = { status: "loading" } | { status: "error"; message: string } | { status: "success"; hosts: string[] };

function ApprovedHosts({ allowed }: { allowed: AllowedHosts }) {
  if (allowed.status === "loading") return <p className="muted">Loading the approved hosts…</p>;
  if (allowed.status === "error") return <p className="muted">The organisation's policy could not be loaded: {allowed.message}</p>;
  return (
    <div data-testid="approved-hosts">
      <p className="field__label">Hosts approved by an admin</p>
      {allowed.hosts.length === 0 ? (
        <p className="muted">None yet: the sandbox cannot reach any host until an admin approves one in the policy.</p>
      ) : (
        <ul className="settings-chips" aria-label="Approved hosts">
          {allowed.hosts.map((host) => (
            <li key={host}>
              <code>{host}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SandboxSection({ draft, disabled, onChange, allowed }: SectionProps & { allowed: AllowedHosts }) {
  const listId = useId();
  const outside = allowed.status === "success" ? hostsOutsidePolicy(draft.egress, allowed.hosts) : [];
  return (
    <Section
      title="Sandbox"
      description="Code runs in an isolated sandbox. It reaches only the hosts listed below, through a proxy that may add a header; ${NAME} in a value names a workspace secret."
    >
      <SelectField
        label="Sandbox mode"
        value={draft.sandbox}
        options={MODE_OPTIONS}
        disabled={disabled}
        onChange={(sandbox) => {
          onChange({ sandbox });
        }}
      />
      <ApprovedHosts allowed={allowed} />
      {allowed.status === "success" ? (
        <datalist id={listId}>
          {allowed.hosts.map((host) => (
            <option key={host} value={host} />
          ))}
        </datalist>
      ) : null}
      <RowsEditor<EgressRuleDraft>
        label="Egress rules"
        addLabel="Add egress rule"
        rows={draft.egress}
        empty="No egress rules: the sandbox has no network."
        disabled={disabled}
        blank={() => ({ host: "", header: "", value: "", tls: false })}
        onChange={(egress) => {
          onChange({ egress });
        }}
      >
        {(rule, update) => (
          <div className="settings-grid">
            <TextField label="Host" list={listId} value={rule.host} disabled={disabled} onChange={(event) => { update({ host: event.target.value }); }} />
            <TextField label="Header" placeholder="None" value={rule.header} disabled={disabled} onChange={(event) => { update({ header: event.target.value }); }} />
            <TextField label="Header value" value={rule.value} disabled={disabled} onChange={(event) => { update({ value: event.target.value }); }} />
            <label className="checkbox">
              <input type="checkbox" checked={rule.tls} disabled={disabled} onChange={(event) => { update({ tls: event.target.checked }); }} /> TLS
            </label>
          </div>
        )}
      </RowsEditor>
      {outside.length > 0 ? (
        <p className="field__error" data-testid="hosts-outside-policy">
          Not approved by an admin, so saving will be refused: {outside.join(", ")}
        </p>
      ) : null}
    </Section>
  );
}

import { useState } from "react";
import { toApiError } from "../../api/errors";
import { createSkill, deleteSkill, listSkills, skillsPath, updateSkill, type Skill, type SkillOwner } from "../../api/skills";
import { useApiQuery } from "../../api/use-api-query";
import { InlineConfirm } from "../../components/inline-confirm";
import { Alert } from "../../components/ui/alert";
import { Button } from "../../components/ui/button";
import { EmptyState } from "../../components/ui/empty-state";
import { Loading } from "../../components/ui/loading";
import { NotAllowed } from "../../components/ui/not-allowed";
import { TextAreaField } from "../../components/ui/text-area-field";
import { useCurrentMembership } from "../orgs/current-org-context";
import { can } from "../orgs/permissions";

const SKILL_FILE = "SKILL.md";

export const NEW_SKILL_TEMPLATE = `---
name: my-skill
description: When to use this skill, in one or two sentences.
---

# My skill

Step-by-step instructions the agent follows when it uses this skill.
`;

interface SkillEditorProps {
  label: string;
  initial: string;
  submitText: string;
  onSave: (skillMd: string) => Promise<void>;
  onCancel: () => void;
}

/** SKILL.md in a text area; the server checks the frontmatter and says what is wrong. */
function SkillEditor({ label, initial, submitText, onSave, onCancel }: SkillEditorProps) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function save() {
    setSaving(true);
    setError(null);
    try {
      await onSave(text);
    } catch (caught) {
      setError(toApiError(caught).message);
      setSaving(false);
    }
  }

  return (
    <form
      className="stack settings-section"
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <TextAreaField
        label={SKILL_FILE}
        hint="YAML frontmatter with name (lower-case letters, digits and hyphens) and description, then the instructions."
        rows={14}
        value={text}
        disabled={saving}
        onChange={(event) => {
          setText(event.target.value);
        }}
      />
      {error ? <Alert>{error}</Alert> : null}
      <div className="skill-actions">
        <Button type="submit" variant="primary" disabled={saving}>
          {saving ? "Saving…" : submitText}
        </Button>
        <Button variant="ghost" onClick={onCancel} disabled={saving}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function SkillItem({ owner, skill, onChanged }: { owner: SkillOwner; skill: Skill; onChanged: () => void }) {
  const [mode, setMode] = useState<"view" | "edit" | "confirm">("view");
  const [error, setError] = useState<string | null>(null);
  const others = Object.keys(skill.files).filter((path) => path !== SKILL_FILE);

  async function remove() {
    setError(null);
    try {
      await deleteSkill(owner, skill.name);
      onChanged();
    } catch (caught) {
      setError(toApiError(caught).message);
      setMode("view");
    }
  }

  return (
    <li className="memory-file" data-testid="skill">
      <div className="memory-file__header">
        <div>
          <code>{skill.name}</code>
          <p className="muted">{skill.description}</p>
          {others.length ? <p className="muted">Also: {others.join(", ")}</p> : null}
        </div>
        {mode === "view" ? (
          <div className="skill-actions">
            <Button variant="ghost" aria-label={`Edit ${skill.name}`} onClick={() => { setMode("edit"); }}>
              Edit
            </Button>
            <Button variant="ghost" aria-label={`Delete ${skill.name}`} onClick={() => { setMode("confirm"); }}>
              Delete
            </Button>
          </div>
        ) : null}
      </div>
      {mode === "confirm" ? (
        <InlineConfirm
          label={`Delete ${skill.name}?`}
          message="Assistants stop seeing this skill in new conversations."
          confirmText="Delete"
          onKeep={() => { setMode("view"); }}
          onConfirm={() => void remove()}
        />
      ) : null}
      {mode === "edit" ? (
        <SkillEditor
          label={`Edit ${skill.name}`}
          initial={skill.files[SKILL_FILE] ?? ""}
          submitText="Save skill"
          onCancel={() => { setMode("view"); }}
          onSave={async (skillMd) => {
            // Scripts the skill has stay as they are; the page edits its SKILL.md.
            await updateSkill(owner, skill.name, { ...skill.files, [SKILL_FILE]: skillMd });
            setMode("view");
            onChanged();
          }}
        />
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
    </li>
  );
}

/** The skills of one owner (the org or an assistant): listed, created, edited and deleted in place. */
export function SkillsManager({ owner, newLabel = "New skill" }: { owner: SkillOwner; newLabel?: string }) {
  const skills = useApiQuery(`skills:${skillsPath(owner)}`, (signal) => listSkills(owner, signal), { keepDataOnReload: true });
  const [creating, setCreating] = useState(false);

  return (
    <div className="stack">
      {creating ? (
        <SkillEditor
          label={newLabel}
          initial={NEW_SKILL_TEMPLATE}
          submitText="Create skill"
          onCancel={() => {
            setCreating(false);
          }}
          onSave={async (skillMd) => {
            await createSkill(owner, { [SKILL_FILE]: skillMd });
            setCreating(false);
            skills.reload();
          }}
        />
      ) : (
        <div>
          <Button
            variant="primary"
            onClick={() => {
              setCreating(true);
            }}
          >
            {newLabel}
          </Button>
        </div>
      )}
      {skills.status === "loading" ? <Loading label="Loading skills…" /> : null}
      {skills.status === "error" ? (
        <div className="stack">
          <Alert>{skills.error.message}</Alert>
          <div>
            <Button onClick={skills.reload}>Try again</Button>
          </div>
        </div>
      ) : null}
      {skills.status === "success" && skills.data.length === 0 ? (
        <EmptyState title="No skills yet">Create one to teach the agent a way of working.</EmptyState>
      ) : null}
      {skills.status === "success" && skills.data.length > 0 ? (
        <ul className="memory-list" aria-label="Skills">
          {skills.data.map((skill) => (
            <SkillItem key={skill.id} owner={owner} skill={skill} onChanged={skills.reload} />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** `/o/:slug/skills`: the org's skills, which every assistant of the deep agent can use. Builders only. */
export function SkillsPage() {
  const membership = useCurrentMembership();
  const { org } = membership;

  if (!can(membership, "configure_agents")) {
    return (
      <NotAllowed title="Not allowed" backTo={`/o/${encodeURIComponent(org.slug)}`}>
        Only the organisation's builders can manage its skills.
      </NotAllowed>
    );
  }
  return (
    <section className="page" aria-labelledby="skills-title">
      <title>{`Skills · ${org.name} · Atrium`}</title>
      <header className="page__header">
        <p className="page__eyebrow">{org.name}</p>
        <h1 id="skills-title" className="page__title">
          Skills
        </h1>
        <p className="muted">
          Instructions the organisation's agents read when a request calls for them: a SKILL.md with a name and a description.
        </p>
      </header>
      <SkillsManager owner={{ orgSlug: org.slug }} />
    </section>
  );
}

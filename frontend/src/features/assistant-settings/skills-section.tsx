import { SkillsManager } from "../skills/skills-page";

/** The assistant's own skills: used by this assistant only, and winning over the org's of the same name. */
export function SkillsSection({ orgSlug, assistantId }: { orgSlug: string; assistantId: string }) {
  return (
    <section className="stack settings-section" aria-labelledby="assistant-skills-title">
      <h2 id="assistant-skills-title">Skills of this assistant</h2>
      <p className="muted">Only this assistant uses them; one named like an organisation skill replaces it here.</p>
      <SkillsManager owner={{ orgSlug, assistantId }} newLabel="New assistant skill" />
    </section>
  );
}

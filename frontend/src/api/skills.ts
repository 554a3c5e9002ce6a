import { api } from "./client";

/** A skill of the org (`assistant_id` null) or of one assistant: a folder with `SKILL.md` and scripts. */
export interface Skill {
  id: string;
  name: string;
  description: string;
  assistant_id: string | null;
  /** Path in the skill's folder → text; `SKILL.md` names and describes the skill in its frontmatter. */
  files: Record<string, string>;
  created_at: string;
  updated_at: string;
}

/** Whose skills: the org's, or one assistant's (which win over the org's of the same name). */
export interface SkillOwner {
  orgSlug: string;
  assistantId?: string | undefined;
}

export function skillsPath({ orgSlug, assistantId }: SkillOwner): string {
  const org = `/api/v1/orgs/${encodeURIComponent(orgSlug)}`;
  return assistantId ? `${org}/assistants/${encodeURIComponent(assistantId)}/skills` : `${org}/skills`;
}

export function listSkills(owner: SkillOwner, signal?: AbortSignal): Promise<Skill[]> {
  return api.get<Skill[]>(skillsPath(owner), signal);
}

export function createSkill(owner: SkillOwner, files: Record<string, string>): Promise<Skill> {
  return api.post<Skill>(skillsPath(owner), { files });
}

/** Replaces a skill's files; SKILL.md's `name` must stay the skill's. */
export function updateSkill(owner: SkillOwner, name: string, files: Record<string, string>): Promise<Skill> {
  return api.put<Skill>(`${skillsPath(owner)}/${encodeURIComponent(name)}`, { files });
}

export function deleteSkill(owner: SkillOwner, name: string): Promise<void> {
  return api.delete(`${skillsPath(owner)}/${encodeURIComponent(name)}`);
}

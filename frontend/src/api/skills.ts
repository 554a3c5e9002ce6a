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

function skillsPath(orgSlug: string): string {
  return `/api/v1/orgs/${encodeURIComponent(orgSlug)}/skills`;
}

export function listSkills(orgSlug: string, signal?: AbortSignal): Promise<Skill[]> {
  return api.get<Skill[]>(skillsPath(orgSlug), signal);
}

export function createSkill(orgSlug: string, files: Record<string, string>): Promise<Skill> {
  return api.post<Skill>(skillsPath(orgSlug), { files });
}

/** Replaces a skill's files; SKILL.md's `name` must stay the skill's. */
export function updateSkill(orgSlug: string, name: string, files: Record<string, string>): Promise<Skill> {
  return api.put<Skill>(`${skillsPath(orgSlug)}/${encodeURIComponent(name)}`, { files });
}

export function deleteSkill(orgSlug: string, name: string): Promise<void> {
  return api.delete(`${skillsPath(orgSlug)}/${encodeURIComponent(name)}`);
}

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Skill } from "../../api/skills";
import type { Role } from "../../api/types";
import { json, mockFetch } from "../../test/fetch-mock";
import { makeMe, makeMembership } from "../../test/fixtures";
import { renderApp } from "../../test/render-app";

const SKILLS = "/api/v1/orgs/demo/skills";

function skillMd(name: string, description = `Writes ${name}.`): string {
  return `---\nname: ${name}\ndescription: ${description}\n---\n\nAnswer with the phrase ok.\n`;
}

function makeSkill(name: string, files: Record<string, string> = { "SKILL.md": skillMd(name) }): Skill {
  return {
    id: `id-${name}`,
    name,
    description: `Writes ${name}.`,
    assistant_id: null,
    files,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
  };
}

function setup(role: Role) {
  const me = makeMe({ id: 2, email: `${role}@demo.local`, memberships: [makeMembership("demo", role)] });
  let skills = [makeSkill("release-notes", { "SKILL.md": skillMd("release-notes"), "scripts/notes.py": "print(1)\n" })];
  const mock = mockFetch({
    "GET /api/v1/me": () => json(me),
    "GET /api/v1/auth/csrf": () => {
      document.cookie = "csrftoken=test-token; path=/";
      return json({ csrf_token: "test-token" });
    },
    [`GET ${SKILLS}`]: () => json(skills),
    [`POST ${SKILLS}`]: ({ body }) => {
      const text = (body as { files: Record<string, string> }).files["SKILL.md"] ?? "";
      const name = /name: (.*)/.exec(text)?.[1] ?? "";
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
        return json({ detail: "SKILL.md: name must be 1 to 64 lower-case letters, digits and single hyphens.", code: "invalid_name" }, 422);
      }
      const skill = makeSkill(name, (body as { files: Record<string, string> }).files);
      skills = [...skills, skill];
      return json(skill, 201);
    },
    [`PUT ${SKILLS}/release-notes`]: ({ body }) => {
      const skill = makeSkill("release-notes", (body as { files: Record<string, string> }).files);
      skills = skills.map((s) => (s.name === "release-notes" ? skill : s));
      return json(skill);
    },
    [`DELETE ${SKILLS}/release-notes`]: () => {
      skills = skills.filter((s) => s.name !== "release-notes");
      return new Response(null, { status: 204 });
    },
  });
  return mock;
}

describe("the skills page", () => {
  it("lists the org's skills for a builder and creates one, showing the server's 422 first", async () => {
    const { calls } = setup("builder");
    const user = userEvent.setup();
    renderApp("/o/demo/skills");

    const list = await screen.findByRole("list", { name: "Skills" });
    expect(within(list).getByText("release-notes")).toBeInTheDocument();
    expect(within(list).getByText("Also: scripts/notes.py")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "New skill" }));
    const editor = screen.getByRole("form", { name: "New skill" });
    const text = within(editor).getByLabelText("SKILL.md");
    await user.clear(text);
    await user.type(text, "---\nname: Bad Name\ndescription: x\n---\n");
    await user.click(within(editor).getByRole("button", { name: "Create skill" }));
    expect(await within(editor).findByRole("alert")).toHaveTextContent(/name must be 1 to 64 lower-case letters/);

    await user.clear(text);
    await user.type(text, skillMd("haiku"));
    await user.click(within(editor).getByRole("button", { name: "Create skill" }));

    expect(await within(list).findByText("haiku")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "New skill" })).not.toBeInTheDocument();
    const posts = calls.filter((call) => call.method === "POST" && call.url === SKILLS);
    expect(posts.at(-1)?.body).toEqual({ files: { "SKILL.md": skillMd("haiku") } });
  });

  it("edits a skill's SKILL.md keeping its scripts, and deletes it after asking", async () => {
    const { calls } = setup("builder");
    const user = userEvent.setup();
    renderApp("/o/demo/skills");

    await user.click(await screen.findByRole("button", { name: "Edit release-notes" }));
    const editor = screen.getByRole("form", { name: "Edit release-notes" });
    const text = within(editor).getByLabelText("SKILL.md");
    await user.clear(text);
    await user.type(text, skillMd("release-notes", "Writes better notes."));
    await user.click(within(editor).getByRole("button", { name: "Save skill" }));

    await waitFor(() => {
      expect(screen.queryByRole("form", { name: "Edit release-notes" })).not.toBeInTheDocument();
    });
    expect(calls.find((call) => call.method === "PUT")?.body).toEqual({
      files: { "SKILL.md": skillMd("release-notes", "Writes better notes."), "scripts/notes.py": "print(1)\n" },
    });

    await user.click(screen.getByRole("button", { name: "Delete release-notes" }));
    await user.click(within(screen.getByRole("group", { name: "Delete release-notes?" })).getByRole("button", { name: "Delete" }));
    expect(await screen.findByText("No skills yet")).toBeInTheDocument();
    expect(calls.some((call) => call.method === "DELETE" && call.url === `${SKILLS}/release-notes`)).toBe(true);
  });

  it.each(["end_user", "viewer"] as const)("offers no skills editing to a %s", async (role) => {
    const { calls } = setup(role);
    renderApp("/o/demo/skills");

    expect(await screen.findByText("Only the organisation's builders can manage its skills.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "New skill" })).not.toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Skills" })).not.toBeInTheDocument();
    expect(calls.some((call) => call.url.startsWith(SKILLS))).toBe(false);
  });

  it("shows builders the Skills section in the navigation", async () => {
    setup("builder");
    renderApp("/o/demo/skills");

    expect(await screen.findByRole("link", { name: "Skills" })).toHaveAttribute("href", "/o/demo/skills");
  });
});

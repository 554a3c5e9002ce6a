import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, mockFetch } from "../../test/fetch-mock";
import { FilesPanel } from "./files-panel";

const THREAD = "6f1c2a4e-0000-4000-8000-000000000001";
const LIST = `/agent/threads/${THREAD}/files`;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the files panel", () => {
  it("lists the attached files and the agent's own, and downloads an attached one through the session", async () => {
    const created: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (blob: Blob) => (created.push(blob), "blob:x"), revokeObjectURL: () => undefined }));
    const { calls } = mockFetch({
      [`GET ${LIST}`]: () => json([{ path: "/uploads/notes.md", name: "notes.md", size: 2048, encoding: "utf-8" }]),
      [`GET ${LIST}/notes.md`]: () => new Response("# notes\n"),
    });
    const user = userEvent.setup();

    render(<FilesPanel orgSlug="demo" threadId={THREAD} runVersion={1} agentFiles={[{ path: "/welcome.md", content: "héllo", encoding: "utf-8" }]} />);

    const list = await screen.findByRole("list", { name: "Files in this conversation" });
    expect(within(list).getAllByTestId("thread-file").map((item) => [item.textContent, item.dataset.origin])).toEqual([
      ["/uploads/notes.md attached · 2 KB", "attached"],
      ["/welcome.md by the agent · 6 B", "agent"],
    ]);
    await user.click(within(list).getByRole("button", { name: "/uploads/notes.md" }));
    await waitFor(() => {
      expect(created).toHaveLength(1);
    });
    expect(await created[0]?.text()).toBe("# notes\n");
    expect(calls.map((call) => call.url)).toEqual([LIST, `${LIST}/notes.md`]);
  });

  it("shows nothing for a new chat, or when there are no files", async () => {
    const { calls } = mockFetch({ [`GET ${LIST}`]: () => json([]) });

    const { container, rerender } = render(<FilesPanel orgSlug="demo" threadId={null} runVersion={0} agentFiles={[]} />);
    expect(calls).toEqual([]);
    rerender(<FilesPanel orgSlug="demo" threadId={THREAD} runVersion={1} agentFiles={[]} />);

    await waitFor(() => {
      expect(calls).toHaveLength(1);
    });
    expect(container).toBeEmptyDOMElement();
  });
});

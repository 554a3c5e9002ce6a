import { act, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { json, mockFetch } from "../../test/fetch-mock";
import { ArtifactsPanel } from "./artifacts-panel";

const THREAD = "6f1c2a4e-0000-4000-8000-000000000001";
const LIST = `/api/v1/orgs/demo/threads/${THREAD}/artifacts`;

describe("the artifacts panel", () => {
  it("links each file the agent produced for download, path segments encoded", async () => {
    const { calls } = mockFetch({
      [`GET ${LIST}`]: () =>
        json([
          { path: "plots/q3 chart.png", size: 1536, modified_at: "2026-11-25T03:00:00+00:00" },
          { path: "report.md", size: 5, modified_at: null },
        ]),
    });

    render(<ArtifactsPanel orgSlug="demo" threadId={THREAD} runVersion={1} />);

    const list = await screen.findByRole("list", { name: "Files from this conversation" });
    const links = within(list).getAllByRole("link");
    expect(links.map((link) => [link.textContent, link.getAttribute("href"), link.getAttribute("download")])).toEqual([
      ["plots/q3 chart.png", `${LIST}/plots/q3%20chart.png`, "q3 chart.png"],
      ["report.md", `${LIST}/report.md`, "report.md"],
    ]);
    expect(within(list).getAllByTestId("artifact").map((item) => item.querySelector(".muted")?.textContent)).toEqual(["1.5 KB", "5 B"]);
    expect(calls.map((call) => call.url)).toEqual([LIST]);
  });

  it("shows nothing for a new chat, an empty workspace, or a list it may not read", async () => {
    const { calls } = mockFetch({
      [`GET ${LIST}`]: () => json([]),
      "GET /api/v1/orgs/demo/threads/someone-elses/artifacts": () => json({ detail: "Thread not found", code: "not_found" }, 404),
    });

    const { container, rerender } = render(<ArtifactsPanel orgSlug="demo" threadId={null} runVersion={0} />);
    expect(calls).toEqual([]);
    rerender(<ArtifactsPanel orgSlug="demo" threadId={THREAD} runVersion={1} />);
    rerender(<ArtifactsPanel orgSlug="demo" threadId="someone-elses" runVersion={1} />);

    await waitFor(() => {
      expect(calls).toHaveLength(2);
    });
    await act(async () => {
      await new Promise((settled) => setTimeout(settled, 0)); // let the 404 settle
    });
    expect(container).toBeEmptyDOMElement();
  });

  it("looks again after each run", async () => {
    let produced = 0;
    mockFetch({ [`GET ${LIST}`]: () => json(Array.from({ length: produced }, (_, i) => ({ path: `out-${i.toString()}.csv`, size: 10, modified_at: null }))) });

    const { rerender } = render(<ArtifactsPanel orgSlug="demo" threadId={THREAD} runVersion={1} />);
    produced = 2;
    rerender(<ArtifactsPanel orgSlug="demo" threadId={THREAD} runVersion={2} />);

    expect((await screen.findAllByTestId("artifact")).map((item) => item.textContent)).toEqual(["out-0.csv 10 B", "out-1.csv 10 B"]);
  });
});

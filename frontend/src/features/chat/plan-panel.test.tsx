import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PlanPanel } from "./plan-panel";

describe("the plan panel", () => {
  it("shows nothing before the agent plans", () => {
    const { container } = render(<PlanPanel todos={[]} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("shows the current plan with each step's status and how far along it is", () => {
    const { rerender } = render(
      <PlanPanel
        todos={[
          { content: "Gather", status: "in_progress" },
          { content: "Outline", status: "pending" },
        ]}
      />,
    );
    expect(screen.getByRole("heading", { name: "Plan 0 of 2 done" })).toBeInTheDocument();

    // when the agent ticks a step off, the same panel updates in place
    rerender(
      <PlanPanel
        todos={[
          { content: "Gather", status: "completed" },
          { content: "Outline", status: "in_progress" },
        ]}
      />,
    );
    const list = screen.getByRole("list", { name: "Current plan" });
    expect(within(list).getAllByRole("listitem").map((item) => [item.textContent, item.dataset.status])).toEqual([
      ["✓Gather (done)", "completed"],
      ["◐Outline (in progress)", "in_progress"],
    ]);
    expect(screen.getByRole("heading", { name: "Plan 1 of 2 done" })).toBeInTheDocument();
  });
});

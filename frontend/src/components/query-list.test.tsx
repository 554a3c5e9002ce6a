import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import { QueryList } from "./query-list";

const empty = <p>Nothing here</p>;
const items = (list: string[]) => (
  <ul>
    {list.map((item) => (
      <li key={item}>{item}</li>
    ))}
  </ul>
);

describe("QueryList", () => {
  it("says it is loading", () => {
    render(<QueryList query={{ status: "loading", reload: vi.fn() }} loadingLabel="Loading things…" empty={empty} children={items} />);

    expect(screen.getByRole("status")).toHaveTextContent("Loading things…");
  });

  it("shows the error and tries again on request", async () => {
    const reload = vi.fn();
    const error = new ApiError(503, "unavailable", "The service is unavailable.");
    render(<QueryList query={{ status: "error", error, reload }} loadingLabel="Loading…" empty={empty} children={items} />);

    expect(screen.getByRole("alert")).toHaveTextContent("The service is unavailable.");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(reload).toHaveBeenCalledOnce();
  });

  it("shows the empty state for an empty list, else the items", () => {
    const { rerender } = render(
      <QueryList query={{ status: "success", data: [] as string[], reload: vi.fn() }} loadingLabel="Loading…" empty={empty} children={items} />,
    );
    expect(screen.getByText("Nothing here")).toBeInTheDocument();

    rerender(<QueryList query={{ status: "success", data: ["a", "b"], reload: vi.fn() }} loadingLabel="Loading…" empty={empty} children={items} />);
    expect(screen.queryByText("Nothing here")).not.toBeInTheDocument();
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
  });
});

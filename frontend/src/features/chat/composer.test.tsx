import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Composer } from "./composer";

describe("the composer", () => {
  it("sends the attached files with the message, and forgets them afterwards", async () => {
    const onSend = vi.fn();
    const user = userEvent.setup();
    render(<Composer isLoading={false} blockedReason={null} placeholder="Message" onSend={onSend} onStop={vi.fn()} />);
    const notes = new File(["# notes\n"], "notes.md", { type: "text/markdown" });
    const data = new File(["a,b\n"], "data.csv", { type: "text/csv" });

    // when two files are attached and one removed
    await user.upload(screen.getByTestId("attach-input"), [notes, data]);
    const attached = screen.getByRole("list", { name: "Attached files" });
    expect(within(attached).getAllByRole("listitem").map((item) => item.textContent)).toEqual(["notes.md ×", "data.csv ×"]);
    await user.click(screen.getByRole("button", { name: "Remove data.csv" }));
    await user.type(screen.getByRole("textbox", { name: "Message" }), "Summarise the attached file{Enter}");

    // then the message goes with the file left, and the box is empty again
    expect(onSend).toHaveBeenCalledWith("Summarise the attached file", [notes]);
    expect(screen.queryByRole("list", { name: "Attached files" })).not.toBeInTheDocument();
  });
});

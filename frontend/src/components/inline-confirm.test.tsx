import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { InlineConfirm } from "./inline-confirm";

describe("InlineConfirm", () => {
  it("asks, then keeps or goes ahead on request", async () => {
    const onKeep = vi.fn();
    const onConfirm = vi.fn();
    render(<InlineConfirm label="Delete notes.md?" message="It is gone for good." confirmText="Delete" onKeep={onKeep} onConfirm={onConfirm} />);

    expect(screen.getByRole("group", { name: "Delete notes.md?" })).toHaveTextContent("It is gone for good.");
    await userEvent.click(screen.getByRole("button", { name: "Keep it" }));
    expect(onKeep).toHaveBeenCalledOnce();
    expect(onConfirm).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Delete" }));
    expect(onConfirm).toHaveBeenCalledOnce();
  });
});

import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { InterruptPanel } from "./interrupt-panel";

const value = {
  action_requests: [{ name: "write_file", args: { file_path: "/notes.md", content: "hi" }, description: "Please check" }],
  review_configs: [{ action_name: "write_file", allowed_decisions: ["approve", "edit", "reject"] }],
};

function setup(readOnly = false, interruptValue: unknown = value) {
  const onRespond = vi.fn(() => Promise.resolve());
  render(<InterruptPanel interrupt={{ id: "int-1", value: interruptValue }} readOnly={readOnly} onRespond={onRespond} />);
  return { onRespond, user: userEvent.setup() };
}

describe("InterruptPanel", () => {
  it("approves with one click", async () => {
    const { onRespond, user } = setup();

    await user.click(screen.getByRole("button", { name: "Approve" }));

    expect(onRespond).toHaveBeenCalledWith({ decisions: [{ type: "approve" }] }, "int-1");
  });

  it("edits the arguments, refusing invalid JSON first", async () => {
    const { onRespond, user } = setup();
    await user.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByRole("textbox", { name: "Arguments (JSON)" });

    await user.clear(box);
    await user.type(box, "not json");
    await user.click(screen.getByRole("button", { name: "Approve with changes" }));
    expect(screen.getByText(/Not valid JSON/)).toBeInTheDocument();
    expect(box).toHaveAttribute("aria-invalid", "true");
    expect(onRespond).not.toHaveBeenCalled();

    await user.clear(box);
    await user.type(box, '{{"file_path": "/other.md"}');
    await user.click(screen.getByRole("button", { name: "Approve with changes" }));

    expect(onRespond).toHaveBeenCalledWith({ decisions: [{ type: "edit", edited_action: { name: "write_file", args: { file_path: "/other.md" } } }] }, "int-1");
  });

  it("rejects with a reason", async () => {
    const { onRespond, user } = setup();
    await user.click(screen.getByRole("button", { name: "Reject" }));

    await user.type(screen.getByRole("textbox", { name: /Why not/ }), "not that file");
    await user.click(screen.getByRole("button", { name: "Reject" }));

    expect(onRespond).toHaveBeenCalledWith({ decisions: [{ type: "reject", message: "not that file" }] }, "int-1");
  });

  it("is read-only for viewers", () => {
    setup(true);

    expect(screen.getByText(/someone who may chat has to answer/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Approve" })).toBeDisabled();
  });

  it("answers any other interrupt with free text", async () => {
    const { onRespond, user } = setup(false, { question: "Which city?" });

    expect(screen.getByRole("heading", { name: "The assistant is waiting for you" })).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Your answer" }), "Oslo");
    await user.click(screen.getByRole("button", { name: "Send answer" }));

    expect(onRespond).toHaveBeenCalledWith("Oslo", "int-1");
  });

  it("shows a Connect card for a consent request, linking to the provider", () => {
    const { onRespond } = setup(false, {
      type: "oauth_consent",
      provider: "github",
      provider_name: "GitHub",
      scopes: ["repo"],
      authorization_url: "https://github.example/authorize?state=s",
      reason: "not_connected",
    });

    expect(screen.getByRole("heading", { name: "Connect GitHub" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Connect GitHub" })).toHaveAttribute("href", "https://github.example/authorize?state=s");
    expect(screen.getByText("Access asked for: repo")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Send answer" })).not.toBeInTheDocument();
    expect(onRespond).not.toHaveBeenCalled();
  });

  it("shows a budget card whose Continue resumes the run", async () => {
    const { onRespond, user } = setup(false, {
      type: "budget_exceeded",
      message: "The daily budget of your model usage (10 tokens) is spent (12 used this day, UTC).",
      scope: "member",
      period: "day",
      metric: "tokens",
    });

    expect(screen.getByRole("heading", { name: "Usage budget spent" })).toBeInTheDocument();
    expect(screen.getByText(/\(10 tokens\) is spent/)).toBeInTheDocument();
    expect(screen.getByText(/can be raised by an org admin/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Continue" }));

    expect(onRespond).toHaveBeenCalledWith({}, "int-1");
  });

  it("keeps Continue from viewers of a budget pause", () => {
    setup(true, { type: "budget_exceeded", message: "spent", scope: "org", period: "month" });

    expect(screen.getByText(/Your organisation's monthly budget/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Continue" })).toBeDisabled();
  });
});

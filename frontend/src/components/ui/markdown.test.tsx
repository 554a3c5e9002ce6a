import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "./markdown";

describe("Markdown", () => {
  it("renders formatting, lists, code and tables", () => {
    const { container } = render(<Markdown text={"**bold** and `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"} />);

    expect(container.querySelector("strong")).toHaveTextContent("bold");
    expect(container.querySelector("code")).toHaveTextContent("code");
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
    expect(screen.getByRole("region", { name: "Table" })).toContainElement(screen.getByRole("table"));
  });

  it("shows raw HTML as text instead of interpreting it", () => {
    const { container } = render(<Markdown text={'<script>alert(1)</script><img src=x onerror="alert(2)"><b>x</b>'} />);

    expect(container.querySelector("script, img, b")).toBeNull();
    expect(container).toHaveTextContent("<script>alert(1)</script>");
  });

  it("makes dangerous links inert and opens external ones safely", () => {
    render(<Markdown text={"[bad](javascript:alert(1)) [good](https://example.com/a) [here](#top)"} />);

    expect(screen.queryByRole("link", { name: "bad" })).not.toBeInTheDocument();
    expect(screen.getByText("bad").tagName).toBe("SPAN");
    const good = screen.getByRole("link", { name: "good" });
    expect(good).toHaveAttribute("href", "https://example.com/a");
    expect(good).toHaveAttribute("target", "_blank");
    expect(good).toHaveAttribute("rel", "noopener noreferrer nofollow");
    expect(screen.getByRole("link", { name: "here" })).not.toHaveAttribute("target");
  });

  it("never loads images: it links to them instead", () => {
    const { container } = render(<Markdown text={"![a chart](https://tracker.example/pixel.png) ![x](javascript:alert(1))"} />);

    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("link", { name: "Image: a chart" })).toHaveAttribute("href", "https://tracker.example/pixel.png");
    expect(screen.getByText("Image: x").tagName).toBe("SPAN");
  });
});

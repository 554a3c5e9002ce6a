import { expect, it } from "vitest";
import { cx } from "./class-names";

it("joins only the truthy class names", () => {
  expect(cx("button", false, null, undefined, "", "button--primary")).toBe("button button--primary");
});

import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// findBy*/waitFor give up after 1 s by default; the first render of a page that lazy-loads its
// modules can take longer on a loaded CI machine. Waiting longer never slows a passing test.
configure({ asyncUtilTimeout: 5000 });

// jsdom does no layout, so it has no scrolling; the chat keeps its end in view with this.
Element.prototype.scrollIntoView = function scrollIntoView() {
  // Nothing to scroll in a document without layout.
};

afterEach(() => {
  cleanup();
  // Cookies live on the shared jsdom document; each test starts without any.
  for (const cookie of document.cookie.split(";")) {
    const name = cookie.split("=")[0]?.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
});

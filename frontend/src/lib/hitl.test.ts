import { describe, expect, it } from "vitest";
import { approve, buildHitlResponse, edit, parseEditedArgs, parseHitlRequest, reject } from "./hitl";

const payload = {
  action_requests: [
    { name: "write_file", args: { file_path: "/notes.md", content: "hi" }, description: "Tool execution requires approval" },
    { name: "execute", args: { command: "ls" } },
  ],
  review_configs: [
    { action_name: "write_file", allowed_decisions: ["approve", "edit", "reject"] },
    { action_name: "execute", allowed_decisions: ["approve", "reject"] },
  ],
};

describe("parseHitlRequest", () => {
  it("reads the middleware's snake_case payload", () => {
    expect(parseHitlRequest(payload)).toEqual({
      actions: [
        {
          name: "write_file",
          args: { file_path: "/notes.md", content: "hi" },
          description: "Tool execution requires approval",
          allowed: ["approve", "edit", "reject"],
        },
        { name: "execute", args: { command: "ls" }, description: null, allowed: ["approve", "reject"] },
      ],
    });
  });

  it("reads the camelCase aliases the SDK adds, and a one-element list wrapper", () => {
    const camel = {
      actionRequests: [{ name: "ls", args: {} }],
      reviewConfigs: [{ actionName: "ls", allowedDecisions: ["approve", "bogus"] }],
    };
    expect(parseHitlRequest([camel])?.actions[0]?.allowed).toEqual(["approve"]);
  });

  it("allows every decision when the review config is missing", () => {
    expect(parseHitlRequest({ action_requests: [{ name: "ls", args: "not an object" }] })?.actions[0]).toEqual({
      name: "ls",
      args: {},
      description: null,
      allowed: ["approve", "edit", "reject"],
    });
  });

  it.each([
    ["a question", { question: "approve?" }],
    ["a string", "yes?"],
    ["no actions", { action_requests: [] }],
    ["an action without a name", { action_requests: [{ args: {} }] }],
    ["null", null],
  ])("returns null for %s", (_label, value) => {
    expect(parseHitlRequest(value)).toBeNull();
  });
});

describe("buildHitlResponse", () => {
  const request = parseHitlRequest(payload);
  if (!request) throw new Error("fixture must parse");
  const [writeFile] = request.actions;
  if (!writeFile) throw new Error("fixture must have an action");

  it("builds the resume value in request order", () => {
    expect(buildHitlResponse(request, [edit(writeFile, { file_path: "/other.md" }), reject("  not now ")])).toEqual({
      decisions: [
        { type: "edit", edited_action: { name: "write_file", args: { file_path: "/other.md" } } },
        { type: "reject", message: "not now" },
      ],
    });
  });

  it("waits until every action has a decision", () => {
    expect(buildHitlResponse(request, [approve(), undefined])).toBeNull();
    expect(buildHitlResponse(request, [approve()])).toBeNull();
  });

  it("refuses a decision the review config does not allow", () => {
    expect(buildHitlResponse(request, [approve(), edit(writeFile, {})])).toBeNull();
  });

  it("leaves out an empty rejection message", () => {
    expect(reject("   ")).toEqual({ type: "reject" });
  });
});

describe("parseEditedArgs", () => {
  it("accepts a JSON object", () => {
    expect(parseEditedArgs('{"a": 1}')).toEqual({ ok: true, args: { a: 1 } });
  });

  it("explains invalid JSON and non-objects", () => {
    expect(parseEditedArgs("{a: 1}")).toMatchObject({ ok: false, error: expect.stringContaining("Not valid JSON") as unknown });
    expect(parseEditedArgs("[1, 2]")).toMatchObject({ ok: false, error: expect.stringContaining("JSON object") as unknown });
  });
});

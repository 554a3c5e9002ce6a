import { describe, expect, it } from "vitest";
import { makeAssistantDetail } from "../test/fixtures";
import { draftFromAssistant, hostApproved, hostsOutsidePolicy, mcpServersOutsidePolicy, patchFromDraft } from "./assistant-settings";

describe("assistant settings", () => {
  it("shows the agent's defaults for settings the assistant does not set", () => {
    const draft = draftFromAssistant(makeAssistantDetail({ context: {} }));

    expect(draft.model).toBe("offline");
    expect(draft.systemPrompt).toBe("");
    expect(draft.sandbox).toBe("off");
    expect(draft.limits).toEqual({
      model_call_limit_per_run: "25",
      model_call_limit_per_thread: "",
      tool_call_limit_per_run: "50",
      tool_call_limit_per_thread: "",
    });
  });

  it("reads every edited field, ignoring values of the wrong shape", () => {
    const draft = draftFromAssistant(
      makeAssistantDetail({
        context: {
          model: "openai:gpt-4.1",
          fallback_model: "offline",
          model_call_limit_per_run: null,
          pii_rules: [{ type: "email", strategy: "mask" }, "junk", { type: "emp", pattern: "EMP-\\d+", strategy: "nonsense" }],
          interrupt_on: ["write_file", "execute"],
          sandbox: "everywhere",
          sandbox_egress: [{ host: "api.example.com", header: "Authorization", value: "Bearer ${KEY}", tls: true }],
          connected_apis: [{ name: "github", provider: "github", base_url: "https://api.github.com", scopes: "repo" }],
          mcp_servers: ["wiki", 7, "tickets"],
        },
      }),
    );

    expect(draft.fallbackModel).toBe("offline");
    expect(draft.limits.model_call_limit_per_run).toBe("");
    expect(draft.piiRules).toEqual([
      { type: "email", strategy: "mask", pattern: "" },
      { type: "emp", strategy: "redact", pattern: "EMP-\\d+" },
    ]);
    expect(draft.interruptOn).toBe("write_file\nexecute");
    expect(draft.sandbox).toBe("off");
    expect(draft.egress).toEqual([{ host: "api.example.com", header: "Authorization", value: "Bearer ${KEY}", tls: true }]);
    expect(draft.connectedApis[0]?.base_url).toBe("https://api.github.com");
    expect(draft.mcpServers).toEqual(["wiki", "tickets"]);
  });

  it("writes the chosen MCP servers once each, and none as an empty list", () => {
    const assistant = makeAssistantDetail({ context: { mcp_servers: ["wiki"] } });
    const draft = draftFromAssistant(assistant);

    expect(patchFromDraft(assistant, { ...draft, mcpServers: ["wiki", "tickets", "wiki"] }).context?.mcp_servers).toEqual(["wiki", "tickets"]);
    expect(patchFromDraft(assistant, { ...draft, mcpServers: [] }).context?.mcp_servers).toEqual([]);
  });

  it("names the MCP servers the org does not offer, and why", () => {
    const servers = [
      { name: "wiki", enabled: true },
      { name: "tickets", enabled: false },
    ];
    expect(mcpServersOutsidePolicy(["wiki", "tickets", "gone"], servers)).toEqual([
      { name: "tickets", reason: "disabled" },
      { name: "gone", reason: "unknown" },
    ]);
    expect(mcpServersOutsidePolicy(["wiki"], servers)).toEqual([]);
  });

  it("writes blanks as the agent's default or no limit, and drops empty rows", () => {
    const assistant = makeAssistantDetail({ context: { fallback_model: "offline", system_prompt: "x", user_memory: "off" } });
    const draft = {
      ...draftFromAssistant(assistant),
      fallbackModel: " ",
      systemPrompt: "",
      limits: { model_call_limit_per_run: "10", model_call_limit_per_thread: "", tool_call_limit_per_run: "0x", tool_call_limit_per_thread: "" },
      interruptOn: " write_file, execute \n\n",
      egress: [
        { host: " pypi.org ", header: "", value: "ignored", tls: false },
        { host: "", header: "X", value: "y", tls: true },
      ],
      piiRules: [{ type: "", strategy: "redact" as const, pattern: "" }],
    };

    const { context } = patchFromDraft(assistant, draft);

    expect(context).not.toHaveProperty("fallback_model");
    expect(context).not.toHaveProperty("system_prompt");
    expect(context?.user_memory).toBe("off");
    expect(context?.model_call_limit_per_run).toBe(10);
    expect(context?.model_call_limit_per_thread).toBeNull();
    expect(context?.tool_call_limit_per_run).toBe("0x");
    expect(context?.interrupt_on).toEqual(["write_file", "execute"]);
    expect(context?.sandbox_egress).toEqual([{ host: "pypi.org" }]);
    expect(context?.pii_rules).toEqual([]);
  });

  it("names the egress hosts the policy does not approve", () => {
    const rules = [
      { host: "API.example.com", header: "", value: "", tls: false },
      { host: "evil.example", header: "", value: "", tls: false },
      { host: " ", header: "", value: "", tls: false },
    ];
    expect(hostsOutsidePolicy(rules, ["api.example.com"])).toEqual(["evil.example"]);
  });

  it.each([
    ["api.example.com", ["api.example.com"], true],
    ["API.Example.com.", ["api.example.com"], true],
    ["a.b.example.com", ["*.example.com"], true],
    ["example.com", ["*.example.com"], false],
    ["badexample.com", ["*.example.com"], false],
    ["other.org", ["api.example.com", "*.example.com"], false],
  ] as const)("hostApproved(%s, %j) is %s", (host, patterns, expected) => {
    expect(hostApproved(host, patterns)).toBe(expected);
  });
});

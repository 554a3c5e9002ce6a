import { describe, expect, it } from "vitest";
import { branchView, selectBranch, type CheckpointNode } from "./branches";

// Checkpoint ids sort by creation time, as uuid6/uuid7 ids do.
const node = (id: string, parentId: string | null, messageIds: string[]): CheckpointNode => ({ id, parentId, messageIds });

/**
 * A first turn (h1 → a1), then h1 edited into h2 (forked from c0, before h1), whose run gives a2.
 *   c0 [] ─┬─ c1 [h1] ── c2 [h1 a1]
 *          └─ c3 [] (input) ── c4 [h2] ── c5 [h2 a2]
 */
const edited = [
  node("c0", null, []),
  node("c1", "c0", ["h1"]),
  node("c2", "c1", ["h1", "a1"]),
  node("c3", "c0", []),
  node("c4", "c3", ["h2"]),
  node("c5", "c4", ["h2", "a2"]),
];

describe("branchView", () => {
  it("follows a straight history to its end and offers forks from before each message", () => {
    const view = branchView([node("c0", null, []), node("c1", "c0", ["h1"]), node("c2", "c1", ["h1", "a1"]), node("c3", "c2", ["h1", "a1"]), node("c4", "c3", ["h1", "a1", "h2"])]);

    expect(view.path.map((step) => step.id)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect(view.isHead).toBe(true);
    // h2 appears at c4; c3 holds the same messages as c2, so the fork point moves up to c2.
    expect(view.byMessage.get("h2")).toEqual({ forkFrom: "c2", option: null });
    expect(view.byMessage.get("a1")).toEqual({ forkFrom: "c1", option: null });
    expect(view.byMessage.get("h1")).toEqual({ forkFrom: "c0", option: null });
  });

  it("shows the newest branch by default, with the edit's alternatives on the edited message", () => {
    const view = branchView(edited);

    expect(view.leaf?.id).toBe("c5");
    expect(view.isHead).toBe(true);
    expect(view.byMessage.get("h2")?.option).toEqual({ index: 2, count: 2, forkId: "c0", siblings: ["c1", "c3"] });
    expect(view.byMessage.get("a2")?.option).toBeNull();
    // Editing h2 again forks from the same checkpoint as the first edit did.
    expect(view.byMessage.get("h2")?.forkFrom).toBe("c0");
  });

  it("switches to an older branch, which is then not the head", () => {
    const first = branchView(edited);
    const option = first.byMessage.get("h2")?.option;
    if (!option) throw new Error("expected an option");

    const older = branchView(edited, selectBranch(new Map(), option, 1));

    expect(older.leaf?.id).toBe("c2");
    expect(older.isHead).toBe(false);
    expect(older.byMessage.get("h1")?.option).toMatchObject({ index: 1, count: 2 });
    expect(older.byMessage.has("h2")).toBe(false);
  });

  it("puts a regenerated answer's alternatives on the answer", () => {
    // a1 regenerated from c1 (the state just before it): c1 gains a second child.
    const view = branchView([node("c0", null, []), node("c1", "c0", ["h1"]), node("c2", "c1", ["h1", "a1"]), node("c3", "c1", ["h1", "a1b"])]);

    expect(view.leaf?.id).toBe("c3");
    expect(view.byMessage.get("a1b")).toEqual({ forkFrom: "c1", option: { index: 2, count: 2, forkId: "c1", siblings: ["c2", "c3"] } });
    expect(view.byMessage.get("h1")?.option).toBeNull();
  });

  it("treats checkpoints whose parent was cut off as roots, preferring the newest", () => {
    const view = branchView([node("c8", "c7", ["h1"]), node("c9", "c8", ["h1", "a1"])]);

    expect(view.path.map((step) => step.id)).toEqual(["c8", "c9"]);
    // Nothing before c8 is known, so h1 can't be replaced.
    expect(view.byMessage.get("h1")?.forkFrom).toBeNull();
    expect(view.byMessage.get("a1")?.forkFrom).toBe("c8");
  });

  it("is empty without checkpoints", () => {
    expect(branchView([])).toMatchObject({ path: [], leaf: null, isHead: false });
  });

  it("ignores a selection that names no child", () => {
    expect(branchView(edited, new Map([["c0", "nope"]])).leaf?.id).toBe("c5");
  });
});

describe("selectBranch", () => {
  it("clamps the index into range and keeps other choices", () => {
    const option = { index: 1, count: 2, forkId: "c0", siblings: ["c1", "c3"] };
    const selection = selectBranch(new Map([["x", "y"]]), option, 5);

    expect([...selection]).toEqual([
      ["x", "y"],
      ["c0", "c3"],
    ]);
    expect(selectBranch(new Map(), option, 0).get("c0")).toBe("c1");
  });
});

/**
 * Branches of a conversation, reconstructed from its checkpoints. Editing a message or
 * regenerating an answer runs the graph again from an earlier checkpoint, so that checkpoint gains
 * a second child: a fork. Choosing one child at every fork gives one branch, a straight line of
 * checkpoints whose last one holds that branch's messages.
 *
 * The history may be truncated (the server returns the newest N checkpoints); checkpoints whose
 * parent is missing are treated as roots.
 */

export interface CheckpointNode {
  id: string;
  parentId: string | null;
  /** The ids of the messages in this checkpoint's state, in order. */
  messageIds: readonly string[];
}

export interface BranchOption {
  /** 1-based position among the alternatives, oldest first. */
  index: number;
  count: number;
  /** The fork checkpoint and the child to pick there to show each alternative, oldest first. */
  forkId: string;
  siblings: readonly string[];
}

export interface MessageBranchInfo {
  /** The checkpoint a new run must start from to replace this message (edit or regenerate). */
  forkFrom: string | null;
  /** Present when this message has alternatives (it was edited or regenerated). */
  option: BranchOption | null;
}

export interface BranchView {
  /** Checkpoints along the chosen branch, oldest first. */
  path: readonly CheckpointNode[];
  /** The branch's last checkpoint, whose state the screen shows. */
  leaf: CheckpointNode | null;
  /** Whether the leaf is the newest checkpoint of the whole thread. */
  isHead: boolean;
  byMessage: ReadonlyMap<string, MessageBranchInfo>;
}

/** A choice per fork: fork checkpoint id → the child to follow. */
export type BranchSelection = ReadonlyMap<string, string>;

const ROOT = "$root";

/** Checkpoint ids are time-ordered (uuid6/uuid7), so comparing them orders by creation. */
function byAge(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Walks down from the root, choosing at every fork the selected child, or by default the child
 * whose subtree holds the newest checkpoint (so with no selection the view ends at the head).
 * `nodes` is in any order; the newest is found by id.
 */
export function branchView(nodes: readonly CheckpointNode[], selection: BranchSelection = new Map()): BranchView {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const children = new Map<string, CheckpointNode[]>();
  for (const node of nodes) {
    const parent = node.parentId !== null && byId.has(node.parentId) ? node.parentId : ROOT;
    const list = children.get(parent) ?? [];
    list.push(node);
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => byAge(a.id, b.id));

  const newestBelow = new Map<string, string>();
  const newestOf = (id: string): string => {
    const known = newestBelow.get(id);
    if (known !== undefined) return known;
    let newest = id;
    // Iterative walk: long threads have thousands of checkpoints in a single chain.
    const stack = [id];
    while (stack.length > 0) {
      const current = stack.pop() ?? "";
      for (const child of children.get(current) ?? []) {
        if (byAge(child.id, newest) > 0) newest = child.id;
        stack.push(child.id);
      }
    }
    newestBelow.set(id, newest);
    return newest;
  };
  const head = nodes.reduce<string | null>((best, node) => (best === null || byAge(node.id, best) > 0 ? node.id : best), null);

  const path: CheckpointNode[] = [];
  const forkOf = new Map<string, { parent: string; siblings: string[] }>();
  let cursor = ROOT;
  for (;;) {
    const options = children.get(cursor) ?? [];
    if (options.length === 0) break;
    const chosenId = selection.get(cursor);
    const chosen =
      options.find((option) => option.id === chosenId) ??
      options.reduce((best, option) => (byAge(newestOf(option.id), newestOf(best.id)) > 0 ? option : best));
    if (options.length > 1) forkOf.set(chosen.id, { parent: cursor, siblings: options.map((option) => option.id) });
    path.push(chosen);
    cursor = chosen.id;
  }

  // A fork is shown on the first message that differs below it: an edit's fork child is an input
  // checkpoint that holds no new message yet, the edited message appears one step later.
  const byMessage = new Map<string, MessageBranchInfo>();
  let pending: BranchOption | null = null;
  for (const node of path) {
    const fork = forkOf.get(node.id);
    if (fork) {
      pending = { index: fork.siblings.indexOf(node.id) + 1, count: fork.siblings.length, forkId: fork.parent, siblings: fork.siblings };
    }
    for (const messageId of node.messageIds) {
      if (byMessage.has(messageId)) continue;
      byMessage.set(messageId, { forkFrom: forkPoint(node, byId), option: pending });
      pending = null;
    }
  }
  const leaf = path.at(-1) ?? null;
  return { path, leaf, isHead: leaf !== null && leaf.id === head, byMessage };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/**
 * Where to start a run that replaces the messages first seen at `node`: its parent, moved up past
 * checkpoints that hold the same messages (input and middleware steps). Every edit of one message
 * then forks from the same checkpoint, so its versions are siblings of a single fork.
 */
function forkPoint(node: CheckpointNode, byId: ReadonlyMap<string, CheckpointNode>): string | null {
  const parentOf = (child: CheckpointNode): CheckpointNode | undefined =>
    child.parentId !== null ? byId.get(child.parentId) : undefined;
  let point = parentOf(node);
  if (!point) return null;
  for (let parent = parentOf(point); parent && sameIds(parent.messageIds, point.messageIds); parent = parentOf(point)) {
    point = parent;
  }
  return point.id;
}

/** The selection that shows alternative `index` (1-based) at a message's fork. */
export function selectBranch(selection: BranchSelection, option: BranchOption, index: number): BranchSelection {
  const target = option.siblings[Math.min(Math.max(index, 1), option.count) - 1];
  if (target === undefined) return selection;
  const next = new Map(selection);
  next.set(option.forkId, target);
  return next;
}

import { useMemo, useState } from "react";
import { getThreadHistory } from "../../api/agent";
import type { ThreadStateSnapshot } from "../../api/agent-types";
import { useApiQuery } from "../../api/use-api-query";
import { branchView, selectBranch, type BranchOption, type BranchView, type CheckpointNode } from "../../lib/branches";
import { messagesOfValues, toChatMessages, type ChatMessage } from "../../lib/chat-messages";
import { isRecord } from "../../lib/is-record";

/**
 * How many checkpoints the branch navigator reads. A deep-agent turn writes several, so this
 * covers the last dozen or so turns; older forks are not offered (the conversation still shows).
 */
export const HISTORY_LIMIT = 100;

export interface Branches {
  view: BranchView | null;
  /** Messages of the chosen branch when it is not the latest one; null means "show the live thread". */
  branchMessages: ChatMessage[] | null;
  choose: (option: BranchOption, index: number) => void;
  showLatest: () => void;
}

function toNode(state: ThreadStateSnapshot): CheckpointNode | null {
  const id = state.checkpoint?.checkpoint_id;
  if (!id) return null;
  const messageIds = messagesOfValues(state.values).flatMap((message) =>
    isRecord(message) && typeof message.id === "string" ? [message.id] : [],
  );
  return { id, parentId: state.parent_checkpoint?.checkpoint_id ?? null, messageIds };
}

/**
 * The thread's checkpoints, read when it is idle and again after every run (`runVersion`), and the
 * branch the reader has chosen. The choice resets after each run, which always ends on the newest
 * branch.
 */
export function useBranches(orgSlug: string, threadId: string | null, idle: boolean, runVersion: number): Branches {
  const key = threadId && idle ? `history:${orgSlug}:${threadId}:${runVersion}` : null;
  const history = useApiQuery(key, (signal) => getThreadHistory(orgSlug, threadId ?? "", HISTORY_LIMIT, signal));
  const [choice, setChoice] = useState<{ key: string | null; selection: ReadonlyMap<string, string> }>({ key: null, selection: new Map() });
  const selection = choice.key === key ? choice.selection : null;

  const states = history.status === "success" ? history.data : null;
  const view = useMemo(() => {
    if (!states) return null;
    const nodes = states.flatMap((state) => toNode(state) ?? []);
    return branchView(nodes, selection ?? new Map());
  }, [states, selection]);

  const branchMessages = useMemo(() => {
    if (!states || !view?.leaf || view.isHead) return null;
    const leafId = view.leaf.id;
    const leaf = states.find((state) => state.checkpoint?.checkpoint_id === leafId);
    return leaf ? toChatMessages(messagesOfValues(leaf.values)) : null;
  }, [states, view]);

  return {
    view,
    branchMessages,
    choose: (option, index) => {
      setChoice({ key, selection: selectBranch(selection ?? new Map(), option, index) });
    },
    showLatest: () => {
      setChoice({ key, selection: new Map() });
    },
  };
}

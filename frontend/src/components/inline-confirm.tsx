import { Button } from "./ui/button";

interface InlineConfirmProps {
  /** What the group asks, for screen readers, e.g. "Delete notes.md?". */
  label: string;
  /** What confirming means for the user. */
  message: string;
  /** The confirming button's text, e.g. "Delete". */
  confirmText: string;
  onKeep: () => void;
  onConfirm: () => void;
}

/** A destructive action's second step, in place under the item it acts on: keep it or go ahead. */
export function InlineConfirm({ label, message, confirmText, onKeep, onConfirm }: InlineConfirmProps) {
  return (
    <div className="memory-file__confirm" role="group" aria-label={label}>
      <p>{message}</p>
      <Button variant="ghost" onClick={onKeep}>
        Keep it
      </Button>
      <Button variant="danger" onClick={onConfirm}>
        {confirmText}
      </Button>
    </div>
  );
}

/**
 * What to try first in an empty chat: one prompt per thing the platform does. The demo agent's
 * offline model answers each as a real model would (agents/.../models/offline.py): a plan kept as
 * todos, a preference saved to memory, research handed to a subagent, and a draft whose finishing
 * edit waits for approval.
 */
const SUGGESTED_PROMPTS: readonly { label: string; text: string }[] = [
  { label: "Make a plan", text: "Plan a weekend in Lisbon" },
  { label: "Remember a preference", text: "Remember that I prefer short answers" },
  { label: "Ask a subagent", text: "Research the history of tea" },
  { label: "Approve a file edit", text: "Draft a welcome note in /welcome.md" },
];

interface SuggestedPromptsProps {
  disabled: boolean;
  onPick: (text: string) => void;
}

export function SuggestedPrompts({ disabled, onPick }: SuggestedPromptsProps) {
  return (
    <ul className="suggested-prompts" aria-label="Suggested prompts">
      {SUGGESTED_PROMPTS.map((prompt) => (
        <li key={prompt.text}>
          <button
            type="button"
            className="suggested-prompts__button"
            disabled={disabled}
            onClick={() => {
              onPick(prompt.text);
            }}
          >
            <span className="suggested-prompts__label">{prompt.label}</span>
            <span className="suggested-prompts__text">{prompt.text}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

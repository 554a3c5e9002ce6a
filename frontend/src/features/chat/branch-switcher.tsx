import type { BranchOption } from "../../lib/branches";

interface BranchSwitcherProps {
  option: BranchOption;
  disabled: boolean;
  onChoose: (index: number) => void;
}

/** "‹ 2 / 3 ›" under a message that was edited or regenerated: moves between its versions. */
export function BranchSwitcher({ option, disabled, onChoose }: BranchSwitcherProps) {
  return (
    <div className="branch-switcher" role="group" aria-label="Versions of this message">
      <button
        type="button"
        className="icon-button"
        aria-label="Previous version"
        disabled={disabled || option.index <= 1}
        onClick={() => {
          onChoose(option.index - 1);
        }}
      >
        ‹
      </button>
      <span className="branch-switcher__label" data-testid="branch-position">
        {option.index} / {option.count}
      </span>
      <button
        type="button"
        className="icon-button"
        aria-label="Next version"
        disabled={disabled || option.index >= option.count}
        onClick={() => {
          onChoose(option.index + 1);
        }}
      >
        ›
      </button>
    </div>
  );
}
